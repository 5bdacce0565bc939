"""The system as separate processes (`python -m svc_x`, as containers run them), each of which a
test can kill and start again."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from common.processes import GRPC_SERVICES, SERVICES
from tests.support.servers import RATE_LIMITS_OFF, free_port, stop_process, wait_for_port


class ServiceSet:
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.ports = {spec.name: free_port() for spec in SERVICES}
        self.env = {
            **os.environ,
            **RATE_LIMITS_OFF,
            "INSIGHTS_DB_PATH": str(log_dir / "insights" / "events.duckdb"),
            **env,
            **{f"{name.upper()}_PORT": str(port) for name, port in self.ports.items()},
            **{f"{s.name.upper()}_METRICS_PORT": str(free_port()) for s in GRPC_SERVICES},
            "GATEWAY_ADMIN_PORT": str(free_port()),
            "COOKIE_SECURE": "false",
            "PYTHONUNBUFFERED": "1",
        }
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def admin_url(self) -> str:
        """The gateway's probes and /metrics."""
        return f"http://127.0.0.1:{self.env['GATEWAY_ADMIN_PORT']}"

    def start(self, name: str, listen_within: float = 30) -> None:
        """Starts `name` and waits until it listens (`listen_within` seconds at most)."""
        spec = next(s for s in SERVICES if s.name == name)
        log = (self.log_dir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", spec.module.removesuffix(".__main__")],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.ports[name], listen_within, self.procs[name])

    def kill(self, name: str) -> None:
        """SIGKILL: no graceful stop, as when a node dies."""
        proc = self.procs.pop(name)
        proc.kill()
        proc.wait()

    def start_all(self, timeout: float = 60) -> None:
        for spec in SERVICES:
            self.start(spec.name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                # /readyz is the gateway's own readiness; this waits for every service too.
                if httpx.get(f"{self.admin_url}/healthz/deps", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError("services not ready: " + self.logs())

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.log_dir.glob("*.log"))

    def stop_all(self) -> None:
        for proc in self.procs.values():
            stop_process(proc)
        self.procs.clear()
