"""A port is one server's: a second server on a taken port fails, naming the port's setting,
instead of quietly sharing the port (and its callers) with the first."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from common.grpc_server import GrpcServer
from common.ports import PortInUse
from tests.support.servers import free_port


async def test_a_grpc_server_on_a_taken_port_fails_instead_of_sharing_it():
    first, second = GrpcServer(None), GrpcServer(None)
    port = await first.start("127.0.0.1", 0)
    try:
        with pytest.raises(PortInUse) as taken:
            await second.start("127.0.0.1", port)
        assert taken.value.port == port
    finally:
        await second.stop()
        await first.stop()


def _serve(name: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "ticketing"), "serve", name],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_service_on_a_port_another_grpc_server_holds_exits_naming_the_setting(env):
    # The other holder binds as grpc does by default (SO_REUSEPORT), which let a second
    # service "serve" on the same port and take a share of the first one's calls.
    other = grpc.server(futures.ThreadPoolExecutor(1), options=[("grpc.so_reuseport", 1)])
    port = other.add_insecure_port("127.0.0.1:0")
    other.start()
    try:
        result = _serve("expiration", {**env, "EXPIRATION_PORT": str(port)})
    finally:
        other.stop(None)
    assert result.returncode != 0
    assert f"port {port} (EXPIRATION_PORT) is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_gateway_on_a_taken_port_exits_naming_the_setting(env):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = _serve("gateway", {**env, "GATEWAY_PORT": str(port)})
    assert result.returncode != 0
    assert f"port {port} (GATEWAY_PORT) is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_gateway_on_a_taken_admin_port_exits_naming_the_setting(env):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        taken = {"GATEWAY_ADMIN_PORT": str(port), "GATEWAY_PORT": str(free_port())}
        result = _serve("gateway", {**env, **taken})
    assert result.returncode != 0
    assert f"port {port} (GATEWAY_ADMIN_PORT) is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_service_on_a_taken_metrics_port_exits_naming_the_setting(env):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        taken = {"ORDERS_METRICS_PORT": str(port), "ORDERS_PORT": str(free_port())}
        result = _serve("orders", {**env, **taken})
    assert result.returncode != 0
    assert f"port {port} (ORDERS_METRICS_PORT) is already in use" in result.stderr
    assert "Traceback" not in result.stderr
