"""`ticketing run` (what `make run` starts): readiness, a clean stop, missing infrastructure,
supervision (a child that dies comes back; one that keeps dying stops the stack) and a stack's
ports and run directory being its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.servers import free_port
from tests.support.stack import PORT_SETTINGS, RunningStack, pid_alive, stack_ports, start_stack

pytestmark = pytest.mark.e2e


def test_sigterm_stops_every_child_and_leaves_nothing_behind(tmp_path):
    # Redis "down" (nothing on that port): the stack starts a private one, as for a laptop
    # without Redis running.
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    stack = start_stack(tmp_path, {"REDIS_URL": dead_redis})
    pids = stack.child_pids()
    assert {"mongo", "auth", "gateway", "redis"} <= set(pids)
    assert _children(pids["gateway"]) == []  # one gateway worker on a laptop: itself
    assert httpx.get(f"{stack.admin_url}/readyz").status_code == 200
    assert "starting a private one" in stack.output()

    assert stack.stop() == 0
    deadline = time.monotonic() + 5
    while any(pid_alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [name for name, pid in pids.items() if pid_alive(pid)] == []
    assert not (tmp_path / "stack.json").exists()
    assert "[ticketing run] stopped" in stack.output()


def _children(pid: int) -> list[int]:
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent(entry) == pid
    ]


def _parent(proc_dir: Path) -> int | None:
    try:
        return int((proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def test_missing_redis_that_cannot_be_started_is_named(tmp_path):
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "PATH": str(bin_dir),  # no redis-server to fall back on
        "TICKETING_RUN_DIR": str(tmp_path),
        # Ports checked before anything starts: free ones, whatever else runs on this machine.
        **{setting: str(port) for setting, port in stack_ports().items()},
    }
    result = subprocess.run(
        [str(bin_dir / "ticketing"), "run"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "redis-server is not installed" in result.stdout
    assert "apt-get install redis-server" in result.stdout


@pytest.fixture(scope="module")
def supervised(tmp_path_factory) -> Iterator[RunningStack]:
    """One stack for the tests that kill its children or try to start a second one beside it;
    with its own Redis (nothing answers at REDIS_URL), so that Redis can be killed too."""
    stack = start_stack(
        tmp_path_factory.mktemp("supervised"),
        {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
    )
    yield stack
    stack.stop()


def _serving(port: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                status = health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return True
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    return False


def test_a_killed_service_is_restarted_and_the_stack_keeps_running(supervised):
    before = supervised.child_pids()
    os.kill(before["orders"], signal.SIGKILL)

    after = supervised.restarted("orders", before["orders"])
    assert _serving(supervised.port("orders"))
    assert "[ticketing run] orders exited with code -9; restarting (1)" in supervised.output()
    assert supervised.state()["restarts"]["orders"] == 1
    assert supervised.proc.poll() is None
    others = {name: pid for name, pid in supervised.child_pids().items() if name != "orders"}
    assert others == {name: pid for name, pid in before.items() if name != "orders"}
    assert pid_alive(after)


def test_a_killed_private_redis_comes_back_with_its_data(supervised):
    state = supervised.state()
    url = state["settings"]["REDIS_URL"]
    key = f"{supervised.namespace}:sentinel"
    redis.Redis.from_url(url).set(key, "kept")
    os.kill(state["children"]["redis"], signal.SIGKILL)

    supervised.restarted("redis", state["children"]["redis"])
    client = redis.Redis.from_url(url, socket_timeout=2, retry_on_timeout=True)
    deadline = time.monotonic() + 20
    while True:
        try:
            value = client.get(key)
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, supervised.output()
            time.sleep(0.2)
    assert value == b"kept"
    assert supervised.proc.poll() is None


def _ticketing_run(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "ticketing"), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_second_stack_refuses_before_starting_anything_and_leaves_the_first_alone(
    supervised, tmp_path
):
    state_before = (supervised.run_dir / "stack.json").read_bytes()

    # Its own run directory, the first stack's ports.
    beside = _ticketing_run({**supervised.env, "TICKETING_RUN_DIR": str(tmp_path)})
    assert beside.returncode == 1
    for setting in (*PORT_SETTINGS, "GATEWAY_PORT"):
        port = supervised.ports[setting]
        assert f"port {port} ({setting}) is already in use" in beside.stdout
    assert "nothing was started" in beside.stdout
    assert "starting" not in beside.stdout
    assert not (tmp_path / "stack.json").exists()

    # The first stack's run directory (and so its ports too).
    same_dir = _ticketing_run(supervised.env)
    assert same_dir.returncode == 1
    assert f"another `ticketing run` (pid {supervised.proc.pid}) is using" in same_dir.stdout

    assert (supervised.run_dir / "stack.json").read_bytes() == state_before
    assert supervised.proc.poll() is None
    assert _serving(supervised.port("auth"))


def test_a_child_that_keeps_dying_stops_the_stack_with_its_last_lines(tmp_path):
    # A setting only expiration reads, and out of its range: it exits at every start.
    with pytest.raises(RuntimeError) as stopped:
        start_stack(tmp_path, {"EXPIRATION_POLL_MS": "1", "TICKETING_RUN_MAX_RESTARTS": "1"})
    output = str(stopped.value)
    assert "ticketing run exited with 1" in output
    assert "expiration exited with code 1; restarting (1)" in output
    report = output.split("expiration exited with code 1, 2 times in 60s; giving up.", 1)[1]
    assert "EXPIRATION_POLL_MS must be between 10 and 1000" in report
    assert not (tmp_path / "stack.json").exists()
