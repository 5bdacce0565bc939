"""An event's report read from the `events` table: the event's listings (their `ticket.created`
names the event), its page's and listings' views in the range, the orders on its listings and
their payments; domain/event_reports.py counts them. One event's rows are few, so it reads them
rather than keeping derived tables."""

from __future__ import annotations

import duckdb

from svc_insights.adapters.duckdb_store import DuckDBEventStore
from svc_insights.domain.event_reports import EventReport, PlacedOrder, View, build_report
from svc_insights.domain.reports import DayRange

LISTINGS_SQL = """
SELECT ticket_id, coalesce(any_value(seller_id), '') FROM events
WHERE type = 'ticket.created' AND catalogue_event_id = ? GROUP BY ticket_id
"""
VIEWS_SQL = """
SELECT CASE WHEN type = 'event.viewed' THEN NULL ELSE ticket_id END, user_id, anonymous_id
FROM events
WHERE occurred_at >= ? AND occurred_at < ?
  AND ((type = 'event.viewed' AND catalogue_event_id = ?)
       OR (type = 'ticket.viewed' AND list_contains(?, ticket_id)))
"""
ORDERS_SQL = """
WITH placed AS (
  SELECT order_id, any_value(ticket_id) AS ticket_id, any_value(user_id) AS buyer_id,
         any_value(price) AS price, coalesce(any_value(currency), 'USD') AS currency,
         coalesce(any_value(quantity), 1) AS seats, min(occurred_at) AS placed_at
  FROM events WHERE type = 'order.created' AND list_contains(?, ticket_id) GROUP BY order_id
), paid AS (
  SELECT order_id, min(occurred_at) AS paid_at FROM events
  WHERE type = 'charge.created' AND order_id IN (SELECT order_id FROM placed) GROUP BY order_id
)
SELECT placed.order_id, ticket_id, buyer_id, price, currency, seats,
       placed_at >= ? AND placed_at < ?, coalesce(paid_at >= ? AND paid_at < ?, false)
FROM placed LEFT JOIN paid USING (order_id)
"""
# Which user each anonymous id belongs to: the user of its earliest signed-in event.
ACCOUNTS_SQL = """
SELECT anonymous_id, arg_min(user_id, occurred_at) FROM events
WHERE user_id IS NOT NULL AND list_contains(?, anonymous_id) GROUP BY anonymous_id
"""


class DuckDBEventReports:
    def __init__(self, store: DuckDBEventStore) -> None:
        self.store = store

    async def event_report(self, event_id: str, days: DayRange) -> EventReport:
        def read(cursor: duckdb.DuckDBPyConnection) -> EventReport:
            listings = dict(cursor.execute(LISTINGS_SQL, [event_id]).fetchall())
            ticket_ids = sorted(listings)
            views = [
                View(ticket_id, user_id, anonymous_id)
                for ticket_id, user_id, anonymous_id in cursor.execute(
                    VIEWS_SQL, [days.start, days.end, event_id, ticket_ids]
                ).fetchall()
            ]
            in_range = [days.start, days.end]
            orders = [
                PlacedOrder(*row)
                for row in cursor.execute(ORDERS_SQL, [ticket_ids, *in_range, *in_range]).fetchall()
            ]
            anonymous = sorted({v.anonymous_id for v in views if v.anonymous_id and not v.user_id})
            accounts = dict(cursor.execute(ACCOUNTS_SQL, [anonymous]).fetchall())
            return build_report(event_id, days, listings, views, orders, accounts)

        return await self.store.read(read)
