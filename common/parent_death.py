"""A child process that stops when the process that started it dies, even by SIGKILL (Linux)."""

from __future__ import annotations

import contextlib
import ctypes
import signal

PR_SET_PDEATHSIG = 1

# Looked up once, at import: between fork and exec a child only calls it (no dlopen, whose lock
# another thread of the parent may hold at the fork).
_prctl = None
with contextlib.suppress(OSError, AttributeError):
    _prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """In the child: ask Linux to send it `sig` when its parent dies. Linux ties this to the
    thread that forked, so such children must be started from a thread that lives as long as
    the parent (the main thread)."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, sig)
