"""A dependency that is down or reconnecting is not a bug: the exceptions that say so, and the
UNAVAILABLE ("try again shortly") a client is shown for them instead of INTERNAL.

`OUTAGES` lists the drivers' types eagerly, for an `except` at the edges; `common.retries.is_outage`
judges a failure without importing them (the service layer uses it)."""

from __future__ import annotations

from pymongo.errors import ConnectionFailure

from common import redis_client
from common.errors import Unavailable

# Database: a dropped connection, a network timeout, no server to select (ServerSelectionTimeout
# is a ConnectionFailure); Redis: a refused or dropped connection, a timeout, no free connection.
OUTAGES: tuple[type[Exception], ...] = (ConnectionFailure, *redis_client.OUTAGES)


def dependency_unavailable() -> Unavailable:
    """What the client is told; the cause stays in the server's log."""
    return Unavailable("A service is unavailable, try again shortly")
