"""The gateway as several worker processes on one port (GATEWAY_WORKERS=2): each one serves, one
that dies is replaced, and SIGTERM (to the supervisor, as Kubernetes sends it) lets the requests in
flight finish before every process exits.

The gateway alone (`python -m gateway`); the tickets service is a socket that accepts connections
and never answers, so a ticket read stays in flight until its RPC deadline."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from common.ports import port_is_free
from common.processes import GRPC_SERVICES
from tests.support.servers import environ, free_port, stop_process, wait_for_port
from tests.support.waiting import until

pytestmark = pytest.mark.integration

RPC_TIMEOUT_SECONDS = 3


class Silent:
    """A TCP server that accepts connections and never says a word; counts what it accepted."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            self.accepted.set()

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


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
def silent_tickets() -> Iterator[Silent]:
    server = Silent()
    yield server
    server.close()


@pytest.fixture
def gateway(env, silent_tickets) -> Iterator[tuple[subprocess.Popen, str, str]]:
    port, admin_port = free_port(), free_port()
    nowhere = {f"{s.name.upper()}_ADDR": f"127.0.0.1:{free_port()}" for s in GRPC_SERVICES}
    settings = {
        **env,
        **nowhere,
        "TICKETS_ADDR": f"127.0.0.1:{silent_tickets.port}",
        "RPC_TIMEOUT_SECONDS": str(RPC_TIMEOUT_SECONDS),
        "GATEWAY_PORT": str(port),
        "GATEWAY_ADMIN_PORT": str(admin_port),
        "GATEWAY_WORKERS": "2",
    }
    proc = subprocess.Popen([sys.executable, "-m", "gateway"], env=environ(settings))
    try:
        wait_for_port(port, 60, proc)
        until(lambda: workers_of(proc.pid), lambda pids: len(pids) == 2)
        yield proc, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}"
    finally:
        stop_process(proc)


def healthy(admin_url: str) -> bool:
    """Its liveness probe, on the admin port (each connection to whichever worker accepts it)."""
    try:
        return httpx.get(f"{admin_url}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


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


def test_sigterm_lets_a_request_in_flight_finish_then_every_worker_exits(gateway, silent_tickets):
    proc, base_url, _ = gateway
    workers = workers_of(proc.pid)
    answer: dict[str, object] = {}

    def read_ticket() -> None:
        query = '{ ticket(id: "VGlja2V0OnQx") { id } }'  # Ticket:t1
        reply = httpx.post(f"{base_url}/graphql", json={"query": query}, timeout=30)
        answer["at"], answer["reply"] = time.monotonic(), reply

    reader = threading.Thread(target=read_ticket)
    reader.start()
    assert silent_tickets.accepted.wait(30)  # the call is on its way to the silent service
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
