"""A dependency that is down or reconnecting is not a bug: the exceptions that say so, and the
UNAVAILABLE ("try again shortly") a client is shown for them instead of INTERNAL.

`OUTAGES` is the drivers' types, for an `except` at the edges (the gateway, the gRPC server),
which load the drivers anyway: the types `common.retries.outages()` names, one list, with the
drivers loaded here. `common.retries.is_outage` judges a failure without importing them (the
service layer uses it)."""

from __future__ import annotations

import pymongo.errors  # noqa: F401  (outages() names its types once it is loaded)
import redis.exceptions  # noqa: F401

from common.errors import Unavailable
from common.retries import outages

OUTAGES = outages()


def dependency_unavailable() -> Unavailable:
    """What the client is told; the cause stays in the server's log."""
    return Unavailable("A service is unavailable, try again shortly")
