"""What the recommender reads from the `events` table: everything it learns from (for a training),
and what one caller did since the model's data ended (for a query)."""

from __future__ import annotations

from datetime import datetime

import duckdb

from svc_insights.adapters.duckdb_store import COLUMNS, VERSION_SQL, DuckDBEventStore
from svc_insights.domain.model import EventRow
from svc_insights.domain.recommender.marketplace import (
    INTERACTION_KINDS,
    TYPES,
    Interaction,
    Marketplace,
)
from svc_insights.service_layer.recommendations import Fresh

_TYPES = ", ".join(f"'{t}'" for t in sorted(TYPES))
_CALLER_TYPES = ", ".join(f"'{t}'" for t in sorted(INTERACTION_KINDS))

MARKETPLACE_SQL = f"""
SELECT {", ".join(COLUMNS)} FROM events WHERE type IN ({_TYPES}) ORDER BY occurred_at, event_id
"""
# What a caller did after `?`, and the tickets an order took after it (held, maybe sold), with
# the version of each change so the latest decides.
# Scans only the row groups past the watermark: rows arrive in about time order.
SINCE_SQL = f"""
SELECT type, ticket_id, occurred_at, user_id, anonymous_id, order_id, version FROM events
WHERE occurred_at > ?
  AND ((type IN ({_CALLER_TYPES}) AND (user_id = ? OR anonymous_id = ?))
       OR type = 'ticket.updated')
"""


class DuckDBInteractions:
    def __init__(self, store: DuckDBEventStore) -> None:
        self.store = store

    async def marketplace(self) -> Marketplace:
        def fold(cursor: duckdb.DuckDBPyConnection) -> Marketplace:
            cursor.execute(MARKETPLACE_SQL)
            market = Marketplace()
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

    async def since(
        self, after: datetime | None, user_id: str | None, anonymous_id: str | None
    ) -> Fresh:
        def query(cursor: duckdb.DuckDBPyConnection) -> Fresh:
            rows = cursor.execute(
                SINCE_SQL, [after or datetime.min, user_id or "", anonymous_id or ""]
            ).fetchall()
            done: list[Interaction] = []
            holders: dict[str, tuple[int, str]] = {}  # ticket -> (version, order holding it)
            for type_, ticket_id, occurred_at, row_user, row_anonymous, order_id, version in rows:
                kind = INTERACTION_KINDS.get(type_)
                mine = (user_id and row_user == user_id) or (
                    anonymous_id and row_anonymous == anonymous_id
                )
                if kind is not None and mine:
                    done.append(Interaction("caller", ticket_id, kind, occurred_at))
                elif type_ == "ticket.updated":
                    latest = holders.get(ticket_id)
                    if latest is None or (version or 0) >= latest[0]:
                        holders[ticket_id] = (version or 0, order_id)
            return Fresh(done, {ticket for ticket, (_, order) in holders.items() if order})

        return await self.store.read(query)
