"""`ticketing run` as a test fixture: the whole stack as real processes on free ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from common.processes import GRPC_SERVICES
from tests.support.servers import RATE_LIMITS_OFF, free_port

# Every port `ticketing run` opens, each given a free one: every gRPC service's and its metrics
# port (from common.processes, so a new service is never left on its default port, where two
# stacks would collide), the gateway's admin port and the development servers'.
PORT_SETTINGS = (
    "GATEWAY_ADMIN_PORT",
    *(f"{s.name.upper()}_PORT" for s in GRPC_SERVICES),
    *(f"{s.name.upper()}_METRICS_PORT" for s in GRPC_SERVICES),
    "MONGO_PORT",
    "STRIPE_PORT",
    "MAIL_SMTP_PORT",
    "MAIL_WEB_PORT",
)


def stack_ports() -> dict[str, int]:
    """A free port for each of the stack's port settings, no two alike (free_port picks at
    random: 17 picks collide now and then, and `ticketing run` refuses a shared port)."""
    ports: dict[str, int] = {}
    for name in (*PORT_SETTINGS, "GATEWAY_PORT"):
        port = free_port()
        while port in ports.values():
            port = free_port()
        ports[name] = port
    return ports


@dataclass
class RunningStack:
    proc: subprocess.Popen
    run_dir: Path
    env: dict[str, str]
    log: Path
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.env["TICKETING_NAMESPACE"]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['GATEWAY_PORT']}"

    @property
    def admin_url(self) -> str:
        """The gateway's admin port: its probes and /metrics."""
        return f"http://127.0.0.1:{self.ports['GATEWAY_ADMIN_PORT']}"

    def port(self, service: str) -> int:
        return self.ports[f"{service.upper()}_PORT"]

    def metrics_url(self, service: str) -> str:
        """Where `service` serves its metrics (the gateway: on its admin port)."""
        if service == "gateway":
            return f"{self.admin_url}/metrics"
        return f"http://127.0.0.1:{self.ports[f'{service.upper()}_METRICS_PORT']}/metrics"

    def state(self) -> dict:
        """What `ticketing run` records in its run directory (common/run_state.py)."""
        return json.loads((self.run_dir / "stack.json").read_text())

    def setting(self, name: str) -> str:
        """A setting as the stack's processes got it (MONGO_URL, STRIPE_API_BASE, ...)."""
        return self.state()["settings"][name]

    def child_pids(self) -> dict[str, int]:
        return self.state()["children"]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def restarted(self, child: str, old_pid: int, timeout: float = 30) -> int:
        """The pid of `child` once the stack has started it again after `old_pid` died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.child_pids()[child]
            if pid != old_pid and pid_alive(pid):
                return pid
            assert self.proc.poll() is None, self.output()
            time.sleep(0.1)
        raise AssertionError(f"{child} was not restarted:\n{self.output()}")

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


def start_stack(
    run_dir: Path,
    extra_env: dict[str, str] | None = None,
    timeout: float = 120,
    *,
    rate_limits_off: bool = True,
) -> RunningStack:
    """`rate_limits_off=False`: the limits `ticketing run` itself sets."""
    ports = stack_ports()
    env = {
        **{k: v for k, v in os.environ.items() if k != "MONGO_URL"},
        **{name: str(port) for name, port in ports.items()},
        "TICKETING_NAMESPACE": f"e{uuid.uuid4().hex[:10]}",
        "TICKETING_RUN_DIR": str(run_dir),
        "LOG_LEVEL": "WARNING",
        **(RATE_LIMITS_OFF if rate_limits_off else {}),
        **(extra_env or {}),
    }
    log = run_dir / "stack.log"
    run_dir.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "ticketing"), "run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    stack = RunningStack(proc, run_dir, env, log, ports)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ticketing run exited with {proc.returncode}:\n{stack.output()}")
        if "[ticketing run] ready" in stack.output():
            return stack
        time.sleep(0.2)
    stack.stop()
    raise TimeoutError(f"ticketing run not ready after {timeout}s:\n{stack.output()}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead but not yet reaped by its parent.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def graphql(client: httpx.Client, query: str, token: str | None = None, **variables) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    reply = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def error_codes(result: dict) -> list[tuple[str, str | None]]:
    return [
        (e["extensions"]["code"], e["extensions"].get("field")) for e in result.get("errors", [])
    ]
