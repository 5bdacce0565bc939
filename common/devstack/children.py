"""One child process of `ticketing run`: started, its output relayed to the console and kept
(the last lines, for when it keeps dying), and the exits that decide whether it is restarted."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import IO

from common.parent_death import die_with_parent

# Enough to hold a traceback or a configuration error and the lines that led to it.
LAST_LINES = 40
STOP_TIMEOUT = 15.0

_console = threading.Lock()


def emit(line: str) -> None:
    """One whole line on the console: children's relays and `say` never interleave mid-line."""
    with _console:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def say(message: str) -> None:
    emit(f"[ticketing run] {message}")


@dataclass(frozen=True)
class RestartPolicy:
    """A child that exits is started again after a delay that doubles with each exit in the
    window; one that exits more than `max_restarts` times in the window is given up on."""

    max_restarts: int = 5
    window_seconds: float = 60.0
    first_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, recent_exits: int) -> float:
        return min(self.first_delay * 2 ** (recent_exits - 1), self.max_delay)


@dataclass(eq=False)
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    # Kept for an error report but not printed (servers that narrate their own start-up).
    quiet: bool = False
    process: subprocess.Popen | None = None
    restarts: int = 0
    restart_at: float | None = None  # monotonic time of a restart that is due
    exit_times: deque[float] = field(default_factory=deque)
    last_lines: deque[str] = field(default_factory=lambda: deque(maxlen=LAST_LINES))
    _relay: threading.Thread | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches only us; we stop the children in order
            # SIGTERM if `ticketing run` itself is killed outright; children are only ever
            # started from the main thread.
            preexec_fn=die_with_parent,
        )
        assert self.process.stdout is not None
        self._relay = threading.Thread(
            target=self._relay_output, args=(self.process.stdout,), daemon=True, name=self.name
        )
        self._relay.start()

    def _relay_output(self, pipe: IO[bytes]) -> None:
        with pipe:
            for raw in iter(pipe.readline, b""):
                line = raw.decode(errors="replace").rstrip()
                self.last_lines.append(line)
                if not self.quiet:
                    emit(f"{self.name} | {line}")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def exit_code(self) -> int | None:
        """The code it exited with, None while it runs."""
        return self.process.poll() if self.process is not None else None

    def record_exit(self, now: float, window_seconds: float) -> int:
        """Notes an exit; returns how many there were within the window."""
        self.exit_times.append(now)
        while self.exit_times[0] < now - window_seconds:
            self.exit_times.popleft()
        return len(self.exit_times)

    def drain_output(self, timeout: float = 2.0) -> None:
        """Waits (briefly) until what the exited process wrote has been read."""
        if self._relay is not None:
            self._relay.join(timeout)

    def stop(self) -> None:
        process = self.process
        self.restart_at = None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            say(f"{self.name} did not stop in {STOP_TIMEOUT:.0f}s; killing it")
            process.kill()
            process.wait()
        self.drain_output(timeout=1.0)
