"""`ticketing run` (what `make run` starts): readiness, a clean stop, and missing infrastructure."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port
from tests.support.stack import pid_alive, start_stack

pytestmark = pytest.mark.e2e


def test_sigterm_stops_every_child_and_leaves_nothing_behind(tmp_path):
    # Redis "down" (nothing on that port): the stack starts a private one, as for a laptop
    # without Redis running.
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    stack = start_stack(tmp_path, {"REDIS_URL": dead_redis})
    pids = stack.child_pids()
    assert {"mongo", "auth", "gateway", "redis"} <= set(pids)
    assert httpx.get(f"{stack.base_url}/readyz").status_code == 200
    assert "starting a private one" in stack.output()

    assert stack.stop() == 0
    deadline = time.monotonic() + 5
    while any(pid_alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [name for name, pid in pids.items() if pid_alive(pid)] == []
    assert not (tmp_path / "stack.json").exists()
    assert "[ticketing run] stopped" in stack.output()


def test_a_child_that_dies_stops_the_whole_stack(tmp_path):
    stack = start_stack(tmp_path)
    pids = stack.child_pids()
    os.kill(pids["auth"], 9)
    assert stack.proc.wait(60) == 1
    assert "auth exited" in stack.output()
    assert [name for name, pid in pids.items() if pid_alive(pid)] == []


def test_missing_redis_that_cannot_be_started_is_named(tmp_path):
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "PATH": str(bin_dir),  # no redis-server to fall back on
        "TICKETING_RUN_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [str(bin_dir / "ticketing"), "run"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "redis-server is not installed" in result.stdout
    assert "apt-get install redis-server" in result.stdout
