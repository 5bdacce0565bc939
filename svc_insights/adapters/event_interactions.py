"""What the event recommender reads from the `events` table: everything it learns from (for a
training), and what one caller did with events since the model's data ended (for a query): an
event page viewed, or a listing viewed, an order started or placed, counted for its event."""

from __future__ import annotations

from datetime import datetime

import duckdb

from svc_insights.adapters.duckdb_store import COLUMNS, VERSION_SQL, DuckDBEventStore
from svc_insights.domain.model import EventRow
from svc_insights.domain.recommender.catalogue_events import (
    EVENT_VIEWED,
    TYPES,
    EventInteraction,
    EventMarketplace,
)
from svc_insights.domain.recommender.marketplace import INTERACTION_KINDS, Kind

_TYPES = ", ".join(f"'{t}'" for t in sorted(TYPES))
KINDS = {**INTERACTION_KINDS, EVENT_VIEWED: Kind.VIEWED}
_CALLER_TYPES = ", ".join(f"'{t}'" for t in sorted(KINDS))

MARKETPLACE_SQL = f"""
SELECT {", ".join(COLUMNS)} FROM events WHERE type IN ({_TYPES}) ORDER BY occurred_at, event_id
"""
# The caller's interactions after `?`, each with its event: its own (event.viewed), or its
# listing's (a listing's event never changes: ticket.created says it).
SINCE_SQL = f"""
WITH mine AS (
  SELECT type, ticket_id, catalogue_event_id, occurred_at FROM events
  WHERE occurred_at > ? AND type IN ({_CALLER_TYPES}) AND (user_id = ? OR anonymous_id = ?)
)
SELECT mine.type, coalesce(mine.catalogue_event_id, listing.catalogue_event_id), mine.occurred_at
FROM mine LEFT JOIN (
  SELECT ticket_id, any_value(catalogue_event_id) AS catalogue_event_id FROM events
  WHERE type = 'ticket.created' AND catalogue_event_id IS NOT NULL
    AND ticket_id IN (SELECT ticket_id FROM mine)
  GROUP BY ticket_id
) AS listing ON listing.ticket_id = mine.ticket_id
"""


class DuckDBEventInteractions:
    def __init__(self, store: DuckDBEventStore) -> None:
        self.store = store

    async def event_marketplace(self) -> EventMarketplace:
        def fold(cursor: duckdb.DuckDBPyConnection) -> EventMarketplace:
            cursor.execute(MARKETPLACE_SQL)
            market = EventMarketplace()
            while batch := cursor.fetchmany(10_000):
                for values in batch:
                    market.add(EventRow(*values))
            return market

        return await self.store.read(fold)

    async def data_version(self) -> tuple[int, datetime | None]:
        def count(cursor: duckdb.DuckDBPyConnection) -> tuple[int, datetime | None]:
            total, latest = cursor.execute(VERSION_SQL).fetchone() or (0, None)
            return int(total), latest

        return await self.store.read(count)

    async def event_interactions_since(
        self, after: datetime | None, user_id: str | None, anonymous_id: str | None
    ) -> list[EventInteraction]:
        if not user_id and not anonymous_id:
            return []

        def query(cursor: duckdb.DuckDBPyConnection) -> list[EventInteraction]:
            rows = cursor.execute(
                SINCE_SQL, [after or datetime.min, user_id or "", anonymous_id or ""]
            ).fetchall()
            return [
                EventInteraction("caller", event_id, KINDS[type_], occurred_at)
                for type_, event_id, occurred_at in rows
                if event_id
            ]

        return await self.store.read(query)
