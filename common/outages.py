"""A dependency that is down or reconnecting is not a bug: the exceptions that say so, and the
UNAVAILABLE ("try again shortly") a client is shown for them instead of INTERNAL."""

from __future__ import annotations

from pymongo.errors import ConnectionFailure

from common import redis_client
from common.errors import Unavailable
from common.mongo import is_transient

# Database: a dropped connection, a network timeout, no server to select (ServerSelectionTimeout
# is a ConnectionFailure); Redis: a refused or dropped connection, a timeout, no free connection.
OUTAGES: tuple[type[Exception], ...] = (ConnectionFailure, *redis_client.OUTAGES)


def dependency_unavailable() -> Unavailable:
    """What the client is told; the cause stays in the server's log."""
    return Unavailable("A service is unavailable, try again shortly")


def is_outage(exc: BaseException) -> bool:
    """A dependency down, or a conflict the retries could not get past (a transaction a killed
    replica left open holds its locks until the database aborts it, 60 s by default): worth
    trying again shortly, not a bug."""
    return isinstance(exc, OUTAGES) or is_transient(exc)
