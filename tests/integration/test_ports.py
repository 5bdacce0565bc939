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
import psutil
import pytest

from common.devstack.children import Child
from common.devstack.listeners import listens_on, wait_until_listening
from common.devstack.stack import StackError
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


def _child(code: str) -> Child:
    child = Child("probe", [sys.executable, "-c", code], dict(os.environ), quiet=True)
    child.start()
    return child


def test_ticketing_run_takes_a_port_only_from_the_child_that_listens_there():
    # What answers on the port is not the child started for it (a second stack's database,
    # there first): `ticketing run` used to take the answer for its own and report ready.
    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", 0))
        foreign.listen()
        port = foreign.getsockname()[1]
        child = _child("import time; time.sleep(60)")
        try:
            with pytest.raises(StackError) as refused:
                wait_until_listening(child, port, 2, "database", "MONGO_PORT")
        finally:
            child.stop()
    assert str(refused.value).startswith(
        f"port {port} (MONGO_PORT) answers, but not from the database this stack started"
    )
    assert "set MONGO_PORT to a free port" in str(refused.value)


def test_a_child_that_dies_on_a_taken_port_is_named_as_such():
    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", 0))
        foreign.listen()
        port = foreign.getsockname()[1]
        child = _child(f"import socket; socket.socket().bind(('127.0.0.1', {port}))")
        with pytest.raises(StackError, match=f"port {port} \\(STRIPE_PORT\\) answers, but not"):
            wait_until_listening(child, port, 30, "the Stripe stand-in", "STRIPE_PORT")


def test_a_port_its_own_child_listens_on_is_accepted():
    port = free_port()
    # The listener is a grandchild, as RabbitMQ's script starts the Erlang VM.
    child = _child(
        "import subprocess, sys; subprocess.run([sys.executable, '-c', "
        f"\"import socket, time; s = socket.socket(); s.bind(('127.0.0.1', {port})); "
        's.listen(); time.sleep(60)"])'
    )
    try:
        wait_until_listening(child, port, 30, "server", "MONGO_PORT")
        assert listens_on(child, port)
    finally:
        grandchildren = psutil.Process(child.pid).children(recursive=True)
        child.stop()
        for process in grandchildren:
            process.kill()
