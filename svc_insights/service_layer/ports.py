"""What the handlers need from the outside, as protocols the adapters (and fakes) implement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from svc_insights.domain.model import EventRow


class EventStore(Protocol):
    async def add(self, row: EventRow) -> bool:
        """Keeps `row` unless an event with its id is kept already; True if it was new. Durable
        once it returns."""
        ...

    async def count_by_type(
        self, ticket_id: str | None = None, order_id: str | None = None
    ) -> Mapping[str, int]:
        """Events kept, by type; only those about `ticket_id` or `order_id` when given."""
        ...
