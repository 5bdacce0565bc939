"""What a handler is given besides the event, and how its failures are told apart: a message no
retry can help, a wait worth sitting out, or a fault with a bounded number of tries.

Outside `common/bus/` (whose package loads pika) so that handlers depend on it, not on the
broker's client: `common.bus` re-exports it for the consumer that delivers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from google.protobuf.message import Message

from common.errors import NotYet
from common.retries import is_outage


@dataclass(frozen=True)
class Delivery:
    """What a handler learns about the message besides the event itself."""

    event_id: str
    type: str
    routing_key: str
    attempt: int
    app_id: str | None
    # When the event was recorded by its publisher (None: the message did not say).
    occurred_at: datetime | None = None


Handler = Callable[[Message, Delivery], Awaitable[None]]


class PoisonMessage(Exception):
    """A message no retry can help: it is dead-lettered at once."""


def is_waiting(exc: BaseException) -> bool:
    """Whether a handler's failure is worth waiting out rather than a fault: the event's
    predecessor has not arrived (`NotYet`), a dependency is down or reconnecting, or the database
    kept losing write conflicts (e.g. to a transaction a killed replica left open, which holds its
    locks until the server aborts it, 60 s by default). These wait on `wait_budget_seconds`; any
    other error has `max_attempts` tries."""
    return isinstance(exc, NotYet) or is_outage(exc)
