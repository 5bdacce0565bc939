"""A cancelled event's refunds, as a job (docs/design/money.md §5): one refund run per event,
created in the transaction that records the cancellation. The refund worker walks the event's
paid orders by id after the run's cursor, a small batch at a time, one full refund per order
(buyer's fees included: the event did not happen) with the Stripe idempotency key
`refund_<order>_event_<event>`, and commits the cursor with each batch: a crash resumes after
the last batch committed, and replays the refunds of the batch it was in with the same keys, so
no order is refunded twice. Its pace is a token bucket below Stripe's rate limit
(`REFUND_RATE_PER_SECOND`).

States: RUNNING until the walk passes the last paid order, then DONE. `total` is the number of
paid orders counted when the run started; `done` the orders refunded (or found refunded
already), `failed` those Stripe refused for good (each refund says why).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class RunState(StrEnum):
    RUNNING = "RUNNING"
    DONE = "DONE"


# Names the refunds event runs make (uuid5 of the order and the event).
RUN_REFUNDS = uuid.UUID("6f1c1d52-3a5e-4d0b-9a57-0c1f6b7d9e21")


def run_refund_id(order_id: str, event_id: str) -> str:
    """The refund an event's run makes for one of its orders: the same id whenever the run
    passes the order again (and the same Stripe idempotency key,
    `refund_<order>_event_<event>`: Refund.idempotency_key)."""
    return str(uuid.uuid5(RUN_REFUNDS, f"{order_id}/{event_id}"))


@dataclass
class RefundRun:
    id: str  # the event's id: one run per event
    event_id: str
    created_at: datetime
    total: int = 0
    cursor: str = ""  # the last order id walked ("" before the first)
    done: int = 0
    failed: int = 0
    skipped: int = 0  # refunded in full before the run came to them
    state: RunState = RunState.RUNNING
    finished_at: datetime | None = None
    version: int = 0
    events: list[object] = field(default_factory=list, repr=False, compare=False)

    def advance(self, cursor: str, done: int, failed: int, skipped: int = 0) -> None:
        """A batch walked: the orders up to `cursor` are behind the run."""
        if self.state is RunState.DONE:
            raise ValueError(f"refund run {self.id} is done")
        if cursor <= self.cursor:
            raise ValueError(f"refund run {self.id}: cursor {cursor!r} not after {self.cursor!r}")
        self.cursor = cursor
        self.done += done
        self.failed += failed
        self.skipped += skipped
        self.version += 1

    def finish(self, now: datetime) -> None:
        """No paid order after the cursor: the run is over."""
        if self.state is RunState.DONE:
            return
        self.state, self.finished_at = RunState.DONE, now
        self.version += 1


class TokenBucket:
    """At most `rate` takes per second on average, `burst` at once; time is given, not read, so
    it is pure (the worker passes its clock's monotonic seconds)."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of one at least")
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = max(self.at, now)

    def wait(self, now: float) -> float:
        """Takes a token; returns how long to wait (seconds) before using it (0: at once)."""
        self._refill(now)
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate
