"""The children of one `ticketing run`, supervised, and the run directory that is its alone.

The run directory is held with an exclusive lock for the stack's lifetime, so a second
`ticketing run` on it refuses instead of overwriting (or, when it stops, deleting) the first's
`stack.json`, database or keys; and so the other commands know its `stack.json` describes a
stack that runs (common/run_state.py).
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import run_state
from common.devstack.children import Child, RestartPolicy, say

# `ticketing users` and `ticketing events` probe the lock with a shared lock of their own, for
# an instant: a stack starting in that instant waits this long before it gives up.
LOCK_PATIENCE_SECONDS = 1.0


class StackError(RuntimeError):
    pass


def lock_run_dir(run_dir: Path) -> int:
    """Holds the run directory until the returned descriptor is closed (or the process ends)."""
    fd = os.open(run_dir / run_state.LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + LOCK_PATIENCE_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StackError(
                f"another `ticketing run` (pid {holder}) is using {run_dir}; nothing was "
                "started. Stop it, or give this one its own TICKETING_RUN_DIR (and ports)."
            ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


@dataclass
class Stack:
    run_dir: Path
    env: dict[str, str]
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    # Every port the stack listens on, by setting (recorded in the state).
    ports: dict[str, int] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)
    ready: bool = False
    _wrote_state: bool = False

    def spawn(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str] | None = None,
        *,
        quiet: bool = False,
    ) -> Child:
        child = Child(name, argv, env or self.env, quiet=quiet)
        child.start()
        self.children.append(child)
        self.write_state()
        return child

    def write_state(self) -> None:
        """What is running where, for the other commands, operators and tests (removed when
        the stack stops)."""
        recorded = (*run_state.SHARED_SETTINGS, "STRIPE_API_BASE")
        settings = {name: self.env[name] for name in recorded if self.env.get(name)}
        settings |= {name: str(port) for name, port in self.ports.items()}
        state = run_state.RunState(
            pid=os.getpid(),
            ready=self.ready,
            settings=settings,
            children={child.name: child.pid for child in self.children if child.pid},
            restarts={child.name: child.restarts for child in self.children},
        )
        run_state.write(self.run_dir, state.to_json())
        self._wrote_state = True

    def mark_ready(self) -> None:
        self.ready = True
        self.write_state()

    def supervise(self) -> None:
        """Restarts children that exited, once their delay has passed; StackError naming the
        child, with its last lines, when one keeps exiting."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._restart(child)
                continue
            code = child.exit_code()
            if code is None:
                continue
            recent = child.record_exit(now, self.policy.window_seconds)
            if recent > self.policy.max_restarts:
                child.drain_output()
                raise StackError(self._keeps_dying(child, code, recent))
            delay = self.policy.delay(recent)
            say(
                f"{child.name} exited with code {code}; "
                f"restarting ({child.restarts + 1}) in {delay:g}s"
            )
            child.restart_at = now + delay

    def _restart(self, child: Child) -> None:
        child.restart_at = None
        child.restarts += 1
        child.start()
        self.write_state()

    def _keeps_dying(self, child: Child, code: int, recent: int) -> str:
        window = self.policy.window_seconds
        lines = "\n".join(f"    {line}" for line in child.last_lines) or "    (no output)"
        return (
            f"{child.name} exited with code {code}, {recent} times in {window:g}s; "
            f"giving up. Its last lines:\n{lines}"
        )

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        if self._wrote_state:
            run_state.remove(self.run_dir)
