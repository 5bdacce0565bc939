"""The insights service's commands: record an event, count what was recorded."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from svc_insights.domain.model import EventRow
from svc_insights.service_layer.ports import EventStore

log = logging.getLogger(__name__)


class InsightsHandlers:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    async def record_event(self, row: EventRow) -> None:
        """Keeps the event once, however often it is delivered."""
        if not await self.store.add(row):
            log.info("event already recorded", extra={"event_id": row.event_id})

    async def event_counts(
        self, ticket_id: str | None = None, order_id: str | None = None
    ) -> Mapping[str, int]:
        return await self.store.count_by_type(ticket_id=ticket_id, order_id=order_id)
