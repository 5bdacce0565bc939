"""One `ticketing run` for the fuzz suite (its own, so what the fuzzers create never meets
another test's data), and what every fuzz test checks at its end: nothing restarted, every
process healthy."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.processes import GRPC_SERVICES
from tests.support import servers
from tests.support.stack import RunningStack, pid_alive, start_stack


@pytest.fixture(scope="package")
def stack(tmp_path_factory, amqp_url, redis_url) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("fuzz"))
    yield running
    running.stop()
    servers.remove_namespace(running.namespace, amqp_url, redis_url, "")


@pytest.fixture(scope="package")
def client(stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as c:
        yield c


@pytest.fixture
def still_healthy(stack, client) -> Iterator[None]:
    """After the test: the same processes as before it (none died and was restarted), the
    gateway's dependency report all up, and every service's own health check SERVING."""
    before = stack.child_pids()
    yield
    state = stack.state()
    assert state["children"] == before, stack.output()[-4000:]
    assert set(state["restarts"].values()) == {0}, stack.output()[-4000:]
    assert all(pid_alive(pid) for pid in before.values()), stack.output()[-4000:]
    report = httpx.get(f"{stack.admin_url}/healthz/deps", timeout=30)
    assert report.status_code == 200, report.text
    for spec in GRPC_SERVICES:
        with grpc.insecure_channel(f"127.0.0.1:{stack.port(spec.name)}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            reply = health.Check(
                health_pb2.HealthCheckRequest(service=spec.grpc_service), timeout=5
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, spec.name
