"""Which failures are worth trying again, told apart without importing the drivers that raise
them.

Handlers run again when their transaction lost a write conflict (`retry_transient`) and tell a
dependency that is down from a bug (`is_outage`), yet the service layer imports neither pymongo
nor redis: an exception of theirs can only exist once their module is loaded, so their classes
are looked up in `sys.modules` when a failure is judged, never imported here. `common/outages.py`
keeps the eager list (`OUTAGES`) for the gateway and the gRPC server, which load the drivers
anyway; tests/unit/test_retries.py holds the two to the same types.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import sys
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class ConcurrentUpdate(Exception):
    """Another transaction saved the aggregate first (or inserted the same id); the handler runs
    again (`retry_transient`), and a conflict that outlasts the retries is an outage."""


def _loaded(module: str, *names: str) -> tuple[type[BaseException], ...]:
    found = sys.modules.get(module)
    return tuple(getattr(found, name) for name in names) if found is not None else ()


def outages() -> tuple[type[BaseException], ...]:
    """The exception types that say a dependency is down or reconnecting, of the drivers loaded:
    the database's dropped connection, network timeout or no server to select
    (ServerSelectionTimeout is a ConnectionFailure); Redis's refused or dropped connection, a
    timeout, no free connection."""
    return _loaded("pymongo.errors", "ConnectionFailure") + _loaded(
        "redis.exceptions", "ConnectionError", "TimeoutError"
    )


def is_transient(exc: BaseException) -> bool:
    """Worth running the handler again: a write conflict, or a connection dropped under it (the
    next attempt gets a fresh one). Not when no server could be selected: that already waited
    serverSelectionTimeoutMS, the database is down and the caller is told UNAVAILABLE."""
    if isinstance(exc, ConcurrentUpdate):
        return True
    errors = sys.modules.get("pymongo.errors")
    if errors is None or not isinstance(exc, errors.PyMongoError):
        return False
    if isinstance(exc, errors.ServerSelectionTimeoutError):
        return False
    if isinstance(exc, errors.ConnectionFailure):
        return True
    if exc.has_error_label("TransientTransactionError"):
        return True
    if exc.has_error_label("UnknownTransactionCommitResult"):
        return True
    return getattr(exc, "code", None) in (112, 251)  # WriteConflict, NoSuchTransaction


def is_outage(exc: BaseException) -> bool:
    """A dependency down, or a conflict the retries could not get past (a transaction a killed
    replica left open holds its locks until the database aborts it, 60 s by default): worth
    trying again shortly, not a bug."""
    return isinstance(exc, outages()) or is_transient(exc)


def retry_transient(
    attempts: int = 8,
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Runs a whole handler again when its transaction lost a write conflict to another one or
    its connection dropped (see `is_transient`)."""

    def decorate(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            for attempt in range(1, attempts + 1):
                try:
                    return await fn(*args, **kwargs)
                except Exception as exc:
                    if attempt == attempts or not is_transient(exc):
                        raise
                    log.debug("transient transaction error, retrying", extra={"attempt": attempt})
                    await asyncio.sleep(random.uniform(0.005, 0.02) * attempt)
            raise AssertionError("unreachable")

        return wrapper

    return decorate
