"""The gateway as several worker processes on one port (GATEWAY_WORKERS=2): each one serves, one
that dies is replaced, and SIGTERM (to the supervisor, as Kubernetes sends it) lets the requests in
flight finish before every process exits.

The gateway alone (`python -m gateway`); the tickets service takes every call and answers none,
so a ticket read stays in flight until its RPC deadline."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import httpx
import pytest

from common.ports import port_is_free
from common.processes import GRPC_SERVICES
from tests.support.servers import environ, free_port, stop_process, wait_for_port
from tests.support.waiting import until

pytestmark = pytest.mark.integration

RPC_TIMEOUT_SECONDS = 3


class Hanging:
    """A gRPC tickets service that takes every call and answers none until it is closed: a call
    that stays in flight for as long as its deadline allows. (A socket that accepts and says
    nothing cannot promise that: the gateway's channel gives up each handshake within its
    reconnect backoff, 0.1-1 s, and fails the call UNAVAILABLE within about two seconds.)"""

    def __init__(self) -> None:
        self.called = threading.Event()
        self.released = threading.Event()
        self.server = grpc.server(ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers(
            [
                grpc.method_handlers_generic_handler(
                    "ticketing.tickets.v1.TicketsService",
                    {"GetTicket": grpc.unary_unary_rpc_method_handler(self._hang)},
                )
            ]
        )
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def _hang(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        self.called.set()
        self.released.wait(120)
        context.abort(grpc.StatusCode.UNAVAILABLE, "closed")

    def close(self) -> None:
        self.released.set()
        self.server.stop(None)


def workers_of(pid: int) -> set[int]:
    """The worker processes of a supervisor (multiprocessing's spawned children; its resource
    tracker is a child too, but not a worker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def hanging_tickets() -> Iterator[Hanging]:
    server = Hanging()
    yield server
    server.close()


@contextlib.contextmanager
def running_gateway(
    env: dict[str, str], tickets_port: int, **settings: str
) -> Iterator[tuple[subprocess.Popen, str, str]]:
    """`python -m gateway` with two workers, every service but tickets nowhere, and `settings`."""
    port, admin_port = free_port(), free_port()
    nowhere = {f"{s.name.upper()}_ADDR": f"127.0.0.1:{free_port()}" for s in GRPC_SERVICES}
    environment = {
        **env,
        **nowhere,
        "TICKETS_ADDR": f"127.0.0.1:{tickets_port}",
        "RPC_TIMEOUT_SECONDS": str(RPC_TIMEOUT_SECONDS),
        "GATEWAY_PORT": str(port),
        "GATEWAY_ADMIN_PORT": str(admin_port),
        "GATEWAY_WORKERS": "2",
        **settings,
    }
    proc = subprocess.Popen([sys.executable, "-m", "gateway"], env=environ(environment))
    try:
        wait_for_port(port, 60, proc)
        until(lambda: workers_of(proc.pid), lambda pids: len(pids) == 2)
        yield proc, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}"
    finally:
        stop_process(proc)


@pytest.fixture
def gateway(env, hanging_tickets) -> Iterator[tuple[subprocess.Popen, str, str]]:
    with running_gateway(env, hanging_tickets.port) as running:
        yield running


def healthy(admin_url: str) -> bool:
    """Its liveness probe, on the admin port (each connection to whichever worker accepts it)."""
    try:
        return httpx.get(f"{admin_url}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def reading_a_ticket(base_url: str) -> tuple[threading.Thread, dict[str, object]]:
    """A ticket read sent from a thread of its own; once joined, the dict holds its `reply` and
    the monotonic time it came (`at`)."""
    answer: dict[str, object] = {}

    def read_ticket() -> None:
        query = '{ ticket(id: "VGlja2V0OnQx") { id } }'  # Ticket:t1
        reply = httpx.post(f"{base_url}/graphql", json={"query": query}, timeout=30)
        answer["at"], answer["reply"] = time.monotonic(), reply

    reader = threading.Thread(target=read_ticket)
    reader.start()
    return reader, answer


def test_two_workers_serve_and_one_that_dies_is_replaced(gateway):
    proc, _, admin_url = gateway
    first, second = sorted(workers_of(proc.pid))
    assert all(healthy(admin_url) for _ in range(20))

    os.kill(first, signal.SIGKILL)
    # The other worker serves on meanwhile, and the supervisor starts a new one.
    replaced = until(lambda: workers_of(proc.pid), lambda pids: len(pids - {first}) == 2)
    assert second in replaced and first not in replaced
    assert all(healthy(admin_url) for _ in range(20))
    assert proc.poll() is None


def test_sigterm_lets_a_request_in_flight_finish_then_every_worker_exits(gateway, hanging_tickets):
    proc, base_url, _ = gateway
    workers = workers_of(proc.pid)
    reader, answer = reading_a_ticket(base_url)
    assert hanging_tickets.called.wait(30)  # in flight until its deadline
    terminated_at = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    reader.join(30)

    reply = answer["reply"]
    assert isinstance(reply, httpx.Response) and reply.status_code == 200
    assert [e["extensions"]["code"] for e in reply.json()["errors"]] == ["UNAVAILABLE"]
    assert answer["at"] > terminated_at  # answered during the shutdown, not cut off by it
    assert proc.wait(30) == 0
    assert [pid for pid in workers if alive(pid)] == []


def test_workers_do_not_outlive_a_killed_supervisor(gateway):
    """Else they would keep the port, and a restarted gateway could not listen on it."""
    proc, base_url, _ = gateway
    workers = workers_of(proc.pid)
    proc.kill()
    proc.wait()
    until(lambda: [pid for pid in workers if alive(pid)], lambda left: left == [])
    port = int(base_url.rsplit(":", 1)[1])
    until(lambda: port_is_free(port), bool)


def test_a_request_the_shutdown_grace_cuts_off_is_told_to_retry_not_internal(env, hanging_tickets):
    """The RPC outlasts SHUTDOWN_GRACE_SECONDS (as a createPayment waiting on Stripe can): the
    server cancels the request, and its client gets 503 UNAVAILABLE with Retry-After (retry
    it, IDEM-6), not a 500 that docs/api.md keeps for bugs."""
    slow_rpc = {"RPC_TIMEOUT_SECONDS": "60", "SHUTDOWN_GRACE_SECONDS": "1"}
    with running_gateway(env, hanging_tickets.port, **slow_rpc) as (proc, base_url, _):
        reader, answer = reading_a_ticket(base_url)
        assert hanging_tickets.called.wait(30)  # in flight to a service that does not answer
        proc.send_signal(signal.SIGTERM)
        reader.join(30)
        assert proc.wait(30) == 0

    reply = answer["reply"]
    assert isinstance(reply, httpx.Response)
    assert reply.status_code == 503, reply.text
    assert int(reply.headers["retry-after"]) >= 1
    assert [e["extensions"]["code"] for e in reply.json()["errors"]] == ["UNAVAILABLE"]
    assert reply.headers["x-content-type-options"] == "nosniff"  # the middleware above it ran
