"""Tables the reports read instead of scanning every event: what is known of each ticket and
each order, views and visitors counted per day, and which user each anonymous id belongs to.

They are derived from `events` alone and kept in step with it by the store's writer: each batch
of events new to the store is applied to them in the same transaction that keeps the events
(`apply_new`), so a report never sees an event without its effect, nor twice. `rebuild` derives
them from every event at once (a store that held events before these tables existed, a bulk
load) with the same statements: applying a batch and rebuilding from all of it agree, which a
test checks.

Why: over a million events the reports grouped and joined every row on every call (0.3-2 s on
two cores); these tables hold one row per ticket, per order, per (ticket, day, viewer) and per
(day, visitor), and a report reads only the days it covers. What each column means follows the
definitions in domain/reports.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from svc_insights.adapters.duckdb_store import insert_sql, row_values
from svc_insights.domain.model import EventRow

SCHEMA = """
CREATE TABLE IF NOT EXISTS report_tickets (
  ticket_id     VARCHAR PRIMARY KEY,
  seller_id     VARCHAR,
  listed_at     TIMESTAMP,       -- its ticket.created
  listed_price  DECIMAL(18, 2),  -- the price it was listed at
  title         VARCHAR,         -- of its latest ticket.* (highest version, then latest)
  title_version INTEGER,
  title_at      TIMESTAMP,
  listed_currency VARCHAR        -- listed_price's (none before v1: USD)
);
CREATE TABLE IF NOT EXISTS report_orders (
  order_id      VARCHAR PRIMARY KEY,
  ticket_id     VARCHAR,
  buyer_id      VARCHAR,
  price         DECIMAL(18, 2),  -- what the buyer pays (order.created)
  created_at    TIMESTAMP,
  paid_at       TIMESTAMP,       -- its first charge.created
  cancelled_at  TIMESTAMP,       -- its first order.cancelled, whatever the reason
  expired_at    TIMESTAMP,       -- its first order.cancelled with reason EXPIRED
  currency      VARCHAR          -- price's (order.created; none before v1: USD)
);
-- Tables from before v1 get the currency columns, last as in new ones (their rows have none).
ALTER TABLE report_tickets ADD COLUMN IF NOT EXISTS listed_currency VARCHAR;
ALTER TABLE report_orders ADD COLUMN IF NOT EXISTS currency VARCHAR;
-- ticket.viewed per ticket, day and signed-in viewer ('' for every anonymous view).
CREATE TABLE IF NOT EXISTS report_views (
  ticket_id VARCHAR,
  day       DATE,
  viewer_id VARCHAR,
  views     BIGINT,
  PRIMARY KEY (ticket_id, day, viewer_id)
);
-- Who did something on a day: a user and/or an anonymous id ('' for none), with what they did.
CREATE TABLE IF NOT EXISTS report_visits (
  day          DATE,
  user_id      VARCHAR,
  anonymous_id VARCHAR,
  viewed       BOOLEAN,          -- a ticket.viewed
  ordered      BOOLEAN,          -- an order.started or order.created
  -- The user it counts for: user_id, else its anonymous id's (report_identities, kept up to
  -- date when that changes); '' for an anonymous id never seen signed in.
  visitor_id   VARCHAR,
  PRIMARY KEY (day, user_id, anonymous_id)
);
-- The user of the earliest signed-in event that carried each anonymous id.
CREATE TABLE IF NOT EXISTS report_identities (
  anonymous_id   VARCHAR PRIMARY KEY,
  user_id        VARCHAR,
  first_at       TIMESTAMP,
  first_event_id VARCHAR
);
CREATE TABLE IF NOT EXISTS report_declines (
  day      DATE PRIMARY KEY,
  declined BIGINT                -- charge.failed
);
"""

TABLES = (
    "report_tickets",
    "report_orders",
    "report_views",
    "report_visits",
    "report_identities",
    "report_declines",
)


def _types(types: frozenset[str]) -> str:
    return ", ".join(f"'{t}'" for t in sorted(types))


# Which event types each table is derived from: a batch without any of them skips its statement
# (one costs a few ms even with nothing to read).
TICKETS = frozenset({"ticket.created", "ticket.updated"})
ORDERS = frozenset({"order.created", "charge.created", "order.cancelled"})
VIEWS = frozenset({"ticket.viewed"})
# The actions that make a visitor active (domain: "active users"); ticket.updated is left out,
# as most of them are the orders service reserving or releasing a ticket, not the seller acting.
VISITS = frozenset(
    {"ticket.viewed", "tickets.browsed", "order.started", "order.created", "ticket.created"}
    | {"user.created"}
)
# The events that carry a user id and an anonymous id together: the behaviour events.
IDENTITIES = frozenset({"ticket.viewed", "tickets.browsed", "order.started"})
DECLINES = frozenset({"charge.failed"})

# Each statement applies the events of `{source}` (a table with the columns of `events`) to one
# derived table: it groups by that table's key first (one upsert per key per statement), then
# merges with what is there: min for first times, sums for counts, the latest version for
# titles, so events may come in any order.
UPSERT_TICKETS = """
INSERT INTO report_tickets
SELECT ticket_id,
       any_value(seller_id) FILTER (WHERE seller_id <> ''),
       min(occurred_at) FILTER (WHERE type = 'ticket.created'),
       arg_min(price, occurred_at) FILTER (WHERE type = 'ticket.created'),
       arg_max(title, (coalesce(version, -1), occurred_at)),
       max(coalesce(version, -1)),
       arg_max(occurred_at, (coalesce(version, -1), occurred_at)),
       arg_min(currency, occurred_at) FILTER (WHERE type = 'ticket.created')
FROM {source}
WHERE type IN ({tickets}) AND ticket_id <> ''
GROUP BY ticket_id
ON CONFLICT (ticket_id) DO UPDATE SET
    seller_id = coalesce(report_tickets.seller_id, excluded.seller_id),
    listed_price = CASE WHEN excluded.listed_at < report_tickets.listed_at
                          OR report_tickets.listed_at IS NULL
                        THEN excluded.listed_price ELSE report_tickets.listed_price END,
    listed_currency = CASE WHEN excluded.listed_at < report_tickets.listed_at
                             OR report_tickets.listed_at IS NULL
                           THEN excluded.listed_currency ELSE report_tickets.listed_currency END,
    listed_at = least(report_tickets.listed_at, excluded.listed_at),
    title = CASE WHEN (excluded.title_version, excluded.title_at)
                      > (report_tickets.title_version, report_tickets.title_at)
                 THEN excluded.title ELSE report_tickets.title END,
    title_at = CASE WHEN (excluded.title_version, excluded.title_at)
                         > (report_tickets.title_version, report_tickets.title_at)
                    THEN excluded.title_at ELSE report_tickets.title_at END,
    title_version = greatest(report_tickets.title_version, excluded.title_version)
"""
UPSERT_ORDERS = """
INSERT INTO report_orders
SELECT order_id,
       any_value(ticket_id) FILTER (WHERE type = 'order.created'),
       any_value(user_id) FILTER (WHERE type = 'order.created'),
       any_value(price) FILTER (WHERE type = 'order.created'),
       min(occurred_at) FILTER (WHERE type = 'order.created'),
       min(occurred_at) FILTER (WHERE type = 'charge.created'),
       min(occurred_at) FILTER (WHERE type = 'order.cancelled'),
       min(occurred_at) FILTER (WHERE type = 'order.cancelled' AND detail = 'EXPIRED'),
       any_value(currency) FILTER (WHERE type = 'order.created')
FROM {source}
WHERE type IN ({orders}) AND order_id <> ''
GROUP BY order_id
ON CONFLICT (order_id) DO UPDATE SET
    ticket_id = coalesce(report_orders.ticket_id, excluded.ticket_id),
    buyer_id = coalesce(report_orders.buyer_id, excluded.buyer_id),
    price = coalesce(report_orders.price, excluded.price),
    currency = coalesce(report_orders.currency, excluded.currency),
    created_at = least(report_orders.created_at, excluded.created_at),
    paid_at = least(report_orders.paid_at, excluded.paid_at),
    cancelled_at = least(report_orders.cancelled_at, excluded.cancelled_at),
    expired_at = least(report_orders.expired_at, excluded.expired_at)
"""
UPSERT_VIEWS = """
INSERT INTO report_views
SELECT ticket_id, CAST(occurred_at AS DATE), coalesce(user_id, ''), count(*)
FROM {source}
WHERE type = 'ticket.viewed' AND ticket_id <> ''
GROUP BY ALL
ON CONFLICT DO UPDATE SET views = report_views.views + excluded.views
"""
# After UPSERT_IDENTITIES: a visit new here is counted for the user its anonymous id is known as.
UPSERT_VISITS = """
INSERT INTO report_visits
SELECT v.*, CASE WHEN v.user_id <> '' THEN v.user_id ELSE coalesce(i.user_id, '') END
FROM (
    SELECT CAST(occurred_at AS DATE) AS day, coalesce(user_id, '') AS user_id,
           coalesce(anonymous_id, '') AS anonymous_id,
           bool_or(type = 'ticket.viewed'),
           bool_or(type IN ('order.started', 'order.created'))
    FROM {source}
    WHERE type IN ({visits}) AND (user_id <> '' OR anonymous_id <> '')
    GROUP BY ALL
) v LEFT JOIN report_identities i ON v.user_id = '' AND v.anonymous_id = i.anonymous_id
ON CONFLICT DO UPDATE SET
    viewed = report_visits.viewed OR excluded.viewed,
    ordered = report_visits.ordered OR excluded.ordered
"""
SEEN_SIGNED_IN = """
SELECT anonymous_id,
       arg_min(user_id, (occurred_at, event_id)) AS user_id,
       min(occurred_at) AS first_at,
       arg_min(event_id, (occurred_at, event_id)) AS first_event_id
FROM {source}
WHERE type IN ({identities}) AND anonymous_id <> '' AND user_id <> ''
GROUP BY anonymous_id
"""
# Before UPSERT_IDENTITIES, while the old identities are there to compare with: the anonymous
# visits already kept whose anonymous id gets a user (new, or an earlier sign-in than the one
# known) are counted for that user from now on.
RESTITCHED = f"""
SELECT n.anonymous_id, n.user_id
FROM ({SEEN_SIGNED_IN}) n LEFT JOIN report_identities i ON n.anonymous_id = i.anonymous_id
WHERE i.anonymous_id IS NULL OR (n.first_at, n.first_event_id) < (i.first_at, i.first_event_id)
"""
RESTITCH_VISITS = f"""
UPDATE report_visits SET visitor_id = r.user_id
FROM ({RESTITCHED}) r
WHERE report_visits.user_id = '' AND report_visits.anonymous_id = r.anonymous_id
"""
# The update scans every visit: it runs only when a batch tells of a new (or earlier) sign-in.
ANY_RESTITCHED = f"SELECT count(*) FROM ({RESTITCHED})"
UPSERT_IDENTITIES = f"""
INSERT INTO report_identities
{SEEN_SIGNED_IN}
ON CONFLICT (anonymous_id) DO UPDATE SET
    user_id = CASE WHEN (excluded.first_at, excluded.first_event_id)
                        < (report_identities.first_at, report_identities.first_event_id)
                   THEN excluded.user_id ELSE report_identities.user_id END,
    first_event_id = CASE WHEN (excluded.first_at, excluded.first_event_id)
                        < (report_identities.first_at, report_identities.first_event_id)
                   THEN excluded.first_event_id ELSE report_identities.first_event_id END,
    first_at = least(report_identities.first_at, excluded.first_at)
"""
UPSERT_DECLINES = """
INSERT INTO report_declines
SELECT CAST(occurred_at AS DATE), count(*)
FROM {source}
WHERE type = 'charge.failed'
GROUP BY ALL
ON CONFLICT DO UPDATE SET declined = report_declines.declined + excluded.declined
"""

# (the event types it reads, the statement, a count that must not be 0 for it to be worth
# running on a batch, or None)
UPSERTS: tuple[tuple[frozenset[str], str, str | None], ...] = (
    (TICKETS, UPSERT_TICKETS, None),
    (ORDERS, UPSERT_ORDERS, None),
    (VIEWS, UPSERT_VIEWS, None),
    (IDENTITIES, RESTITCH_VISITS, ANY_RESTITCHED),
    (IDENTITIES, UPSERT_IDENTITIES, None),
    (VISITS, UPSERT_VISITS, None),
    (DECLINES, UPSERT_DECLINES, None),
)


def _upserts(source: str) -> list[tuple[frozenset[str], str, str | None]]:
    """The statements for `source`, each with the event types it reads and its guard."""
    names = {
        "source": source,
        "tickets": _types(TICKETS),
        "orders": _types(ORDERS),
        "visits": _types(VISITS),
        "identities": _types(IDENTITIES),
    }
    return [
        (types, statement.format(**names), guard and guard.format(**names))
        for types, statement, guard in UPSERTS
    ]


NEW_EVENTS = "new_events"  # a temporary table of the writer's connection: one batch's new events
# Built once: every batch the writer commits runs them.
_APPLY_NEW = _upserts(NEW_EVENTS)


def _count(connection: duckdb.DuckDBPyConnection, query: str) -> int:
    found = connection.execute(query).fetchone()
    return found[0] if found else 0


class ReportTables:
    """The derived tables of one store; used by its writer, on the writer's connection."""

    def create(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Creates the tables; when they are new and events are there already, derives them."""
        existing = {
            name
            for (name,) in connection.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary"
            ).fetchall()
        }
        connection.execute(SCHEMA)
        if not set(TABLES) <= existing:
            self.rebuild(connection)

    def rebuild(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Derives every table from all of `events` again, in one transaction."""
        connection.begin()
        try:
            for table in TABLES:
                connection.execute(f"DELETE FROM {table}")
            for _types, statement, _guard in _upserts("events"):
                connection.execute(statement)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise

    def apply_new(self, connection: duckdb.DuckDBPyConnection, rows: Sequence[EventRow]) -> None:
        """Applies `rows`, events the store has just kept for the first time, inside the
        caller's transaction."""
        if not rows:
            return
        connection.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {NEW_EVENTS} AS SELECT * FROM events LIMIT 0"
        )
        connection.execute(f"DELETE FROM {NEW_EVENTS}")
        params = [value for row in rows for value in row_values(row)]
        connection.execute(insert_sql(NEW_EVENTS, len(rows)), params)
        types = {row.type for row in rows}
        for reads, statement, guard in _APPLY_NEW:
            if not reads & types:  # a statement with nothing to read costs a few ms all the same
                continue
            if guard is not None and not _count(connection, guard):
                continue
            connection.execute(statement)
