"""What a running `ticketing run` says about itself in its run directory (TICKETING_RUN_DIR,
default `.run`), and how the other commands (`ticketing users`, `ticketing events`) find the
stack beside them instead of guessing its namespace and addresses.

`stack.json` holds the stack's namespace, the addresses of its database, broker, Redis and
Stripe, every port, and its children's pids. The run directory's `lock` is held (flock) by the
`ticketing run` for as long as it runs, so a state file whose lock nobody holds is left over
from a stack that was killed: it is never taken for a running one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCK_FILE = "lock"
STATE_FILE = "stack.json"
DEFAULT_RUN_DIR = ".run"
# What a command beside the stack needs to reach the stack's own data, when its environment
# does not say.
SHARED_SETTINGS = ("TICKETING_NAMESPACE", "MONGO_URL", "AMQP_URL", "REDIS_URL")


class RunStateError(RuntimeError):
    """The run directory's state cannot be trusted (a stack that is gone, or still starting)."""


def run_dir_of(env: Mapping[str, str]) -> Path:
    return Path(env.get("TICKETING_RUN_DIR") or DEFAULT_RUN_DIR)


def is_held(run_dir: Path) -> bool:
    """Whether a `ticketing run` holds the run directory's lock now."""
    try:
        fd = os.open(run_dir / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        # A shared lock, released at once: it fails only while the stack holds its exclusive
        # one (and the stack retries its own for a moment, should the two meet).
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def write(run_dir: Path, state: Mapping[str, Any]) -> None:
    """Replaced whole, so a reader never sees half of it."""
    partial = run_dir / f"{STATE_FILE}.{os.getpid()}"
    partial.write_text(json.dumps(state, indent=1, sort_keys=True))
    partial.replace(run_dir / STATE_FILE)


def remove(run_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (run_dir / STATE_FILE).unlink()


@dataclass(frozen=True)
class RunState:
    pid: int
    ready: bool
    settings: dict[str, str]  # setting -> value, as the stack's processes were given it
    children: dict[str, int]
    restarts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "ready": self.ready,
            "settings": self.settings,
            "children": self.children,
            "restarts": self.restarts,
        }


def read(run_dir: Path) -> RunState | None:
    """The state of the `ticketing run` running in `run_dir`; None when there is none (no state
    file, no lock held). RunStateError for a state file left by a stack that no longer runs, or
    one that is still starting."""
    path = run_dir / STATE_FILE
    held = is_held(run_dir)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        if held:
            raise RunStateError(_starting(run_dir)) from None
        return None
    except ValueError as exc:
        raise RunStateError(f"{path} is not readable JSON ({exc})") from None
    if not held:
        raise RunStateError(
            f"{path} is left over from a `ticketing run` that no longer runs (pid "
            f"{raw.get('pid', '?')}); it is not used. Start the stack again (or delete the file), "
            f"or set {', '.join(SHARED_SETTINGS)} yourself."
        )
    state = RunState(
        pid=int(raw["pid"]),
        ready=bool(raw.get("ready")),
        settings={str(k): str(v) for k, v in raw.get("settings", {}).items()},
        children=dict(raw.get("children", {})),
        restarts=dict(raw.get("restarts", {})),
    )
    if not state.ready:
        raise RunStateError(_starting(run_dir))
    return state


def _starting(run_dir: Path) -> str:
    return f"the `ticketing run` in {run_dir} is still starting; try again once it says ready"


def with_running_stack(env: Mapping[str, str]) -> dict[str, str]:
    """`env`, with what it leaves unset of SHARED_SETTINGS taken from the `ticketing run` in its
    run directory, if one runs there. What the environment sets always wins; the state file is
    read only when something is missing, so a command given every setting never depends on it."""
    merged = dict(env)
    missing = [name for name in SHARED_SETTINGS if not merged.get(name)]
    if not missing:
        return merged
    state = read(run_dir_of(env))
    if state is not None:
        merged |= {name: state.settings[name] for name in missing if state.settings.get(name)}
    return merged
