"""What the expiration handlers need from outside, as ports: the schedule of orders' expiries
(Redis in production, `svc_expiration/adapters/redis_schedule.py`) and a confirmed publish to the
broker (`common.bus.RabbitPublisher.publish`); `bootstrap.py` wires them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from svc_expiration.domain.model import Expiration

# Publishes event documents (common.events.message_doc); returns once the broker confirmed all.
Publish = Callable[[list[dict[str, Any]]], Awaitable[None]]


class Schedule(Protocol):
    async def schedule(self, order_id: str, due: datetime, trace_context: str = "") -> bool:
        """Puts the order on the schedule unless it is, or was lately, on it already; False
        when it was."""
        ...

    async def trace_contexts(self, order_ids: list[str]) -> list[str]:
        """The trace context each order was scheduled with ('' for none)."""
        ...

    async def cancel(self, order_id: str, now: datetime) -> None: ...

    async def claim_due(self, now: datetime, lease_until: datetime, batch: int = 100) -> list[str]:
        """Takes up to `batch` due orders for this caller until `lease_until`."""
        ...

    async def done(self, order_ids: list[str], now: datetime) -> None:
        """The orders' OrderExpired was published: off the schedule for good."""
        ...

    async def release(self, order_ids: list[str], now: datetime) -> None:
        """Gives claimed orders back at once (publishing failed) instead of at the lease's end."""
        ...

    async def get(self, order_id: str) -> Expiration | None: ...

    async def next_due(self) -> datetime | None:
        """The earliest moment something may become claimable: a due time or a lease's end."""
        ...
