"""The children of one `ticketing run`, supervised, and the run directory that is its alone.

The run directory is held with an exclusive lock for the stack's lifetime, so a second
`ticketing run` on it refuses instead of overwriting (or, when it stops, deleting) the first's
`stack.json`, database or keys.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from common.devstack.children import Child, RestartPolicy, say

LOCK_FILE = "lock"
STATE_FILE = "stack.json"


class StackError(RuntimeError):
    pass


def lock_run_dir(run_dir: Path) -> int:
    """Holds the run directory until the returned descriptor is closed (or the process ends)."""
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise StackError(
            f"another `ticketing run` (pid {holder}) is using {run_dir}; nothing was started. "
            "Stop it, or give this one its own TICKETING_RUN_DIR (and ports)."
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


@dataclass
class Stack:
    run_dir: Path
    env: dict[str, str]
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    children: list[Child] = field(default_factory=list)
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
        """What is running where, for operators and tests (removed when the stack stops).
        Replaced whole, so a reader never sees half of it."""
        state = {
            "pid": os.getpid(),
            "children": {child.name: child.pid for child in self.children},
            "restarts": {child.name: child.restarts for child in self.children},
            "mongo_url": self.env.get("MONGO_URL"),
            "redis_url": self.env.get("REDIS_URL"),
            "amqp_url": self.env.get("AMQP_URL"),
            "stripe_api_base": self.env.get("STRIPE_API_BASE"),
        }
        partial = self.run_dir / f"{STATE_FILE}.{os.getpid()}"
        partial.write_text(json.dumps(state))
        partial.replace(self.run_dir / STATE_FILE)
        self._wrote_state = True

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
        if child.on_restart is not None:
            child.on_restart(child)

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
            with contextlib.suppress(FileNotFoundError):
                (self.run_dir / STATE_FILE).unlink()
