"""The reports as SQL over the `events` table (one row per event; its columns in store.py).

The definitions these queries implement are in domain/reports.py; each query's comment says
which. Ranges are half-open on `occurred_at` ([range.start, range.end), naive UTC), days are
`CAST(occurred_at AS DATE)`. Ids may be stored as NULL or '' when absent: `x <> ''` is false
for both.

A report runs on one of the store's reader threads with that thread's cursor (DuckDB runs the
query on its own threads and releases the GIL meanwhile), beside the consumer's writes: a report
sees the last commit before it began.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from svc_insights.adapters.duckdb_store import DuckDBEventStore
from svc_insights.domain.reports import (
    PRICE_BUCKET_BOUNDS,
    DayRange,
    Funnel,
    MarketDay,
    MarketReport,
    Outcomes,
    SellerFigures,
    SellerReport,
    TicketViews,
    TopSeller,
    every_market_day,
    every_seller_day,
    price_buckets,
)

# The most viewed of a seller's tickets a report lists.
TICKETS_SHOWN = 100


def in_range(alias: str = "") -> str:
    at = f"{alias}.occurred_at" if alias else "occurred_at"
    return f"{at} >= $start AND {at} < $end"


IN_RANGE = in_range()

# What a visitor does (domain: "active users"); ticket.updated is left out, as most of them are
# the orders service reserving or releasing the ticket, not the seller acting.
ACTIONS = (
    "'ticket.viewed', 'tickets.browsed', 'order.started', 'order.created', 'ticket.created', "
    "'user.created'"
)

# Orders paid in the range: their first charge.created falls in it.
PAID_IN_RANGE = """
    paid AS (
        SELECT order_id, min(occurred_at) AS paid_at
        FROM events
        WHERE type = 'charge.created' AND occurred_at < $end
        GROUP BY order_id
        HAVING min(occurred_at) >= $start
    )"""

# The anonymous ids seen on a signed-in event, each with the user of the earliest such event.
IDENTITIES = """
    identities AS (
        SELECT anonymous_id, arg_min(user_id, (occurred_at, event_id)) AS user_id
        FROM events
        WHERE anonymous_id <> '' AND user_id <> ''
        GROUP BY anonymous_id
    )"""

# The visitor behind an event `e` (joined to `identities` as `i`): its user, the user its
# anonymous id was stitched to, or the anonymous id itself.
VISITOR = """
    CASE WHEN e.user_id <> '' THEN 'u:' || e.user_id
         WHEN i.user_id IS NOT NULL THEN 'u:' || i.user_id
         ELSE 'a:' || e.anonymous_id END"""


def _bucket_of(price: str) -> str:
    """The index of the PRICE_BUCKET_BOUNDS bucket `price` falls in (constants, not input)."""
    whens = " ".join(
        f"WHEN {price} < {upper} THEN {n}" for n, upper in enumerate(PRICE_BUCKET_BOUNDS[1:])
    )
    return f"CASE {whens} ELSE {len(PRICE_BUCKET_BOUNDS) - 1} END"


SELLER_DAYS = f"""
WITH seller_tickets AS (
    SELECT ticket_id, min(occurred_at) FILTER (WHERE type = 'ticket.created') AS listed_at
    FROM events
    WHERE type IN ('ticket.created', 'ticket.updated') AND seller_id = $seller
    GROUP BY ticket_id
),
seller_orders AS (
    SELECT o.order_id, any_value(o.price) AS price, any_value(t.listed_at) AS listed_at
    FROM events o JOIN seller_tickets t ON o.ticket_id = t.ticket_id
    WHERE o.type = 'order.created'
    GROUP BY o.order_id
),
{PAID_IN_RANGE},
facts AS (
    SELECT CAST(occurred_at AS DATE) AS day, 'listed' AS kind, ticket_id AS id,
           NULL::DECIMAL(18, 2) AS price, NULL::DOUBLE AS seconds
    FROM events
    WHERE type = 'ticket.created' AND seller_id = $seller AND {IN_RANGE}
    UNION ALL
    SELECT CAST(p.paid_at AS DATE), 'sold', o.order_id, o.price, epoch(p.paid_at - o.listed_at)
    FROM paid p JOIN seller_orders o ON p.order_id = o.order_id
    UNION ALL
    SELECT CAST(min(occurred_at) AS DATE), 'expired', order_id, NULL, NULL
    FROM events
    WHERE type = 'order.cancelled' AND detail = 'EXPIRED' AND {IN_RANGE}
      AND order_id IN (SELECT order_id FROM seller_orders)
    GROUP BY order_id
    UNION ALL
    SELECT CAST(occurred_at AS DATE), 'viewed', ticket_id, NULL, NULL
    FROM events
    WHERE type = 'ticket.viewed' AND {IN_RANGE} AND user_id IS DISTINCT FROM $seller
      AND ticket_id IN (SELECT ticket_id FROM seller_tickets)
)
SELECT day,
       count(DISTINCT id) FILTER (WHERE kind = 'listed'),
       count(DISTINCT id) FILTER (WHERE kind = 'sold'),
       count(DISTINCT id) FILTER (WHERE kind = 'expired'),
       coalesce(sum(price) FILTER (WHERE kind = 'sold'), 0),
       median(seconds) FILTER (WHERE kind = 'sold'),
       count(*) FILTER (WHERE kind = 'viewed')
FROM facts
GROUP BY GROUPING SETS ((day), ())
"""

SELLER_TICKETS = f"""
WITH seller_tickets AS (
    SELECT ticket_id,
           arg_max(title, (coalesce(version, -1), occurred_at)) AS title,
           min(occurred_at) FILTER (WHERE type = 'ticket.created') AS listed_at
    FROM events
    WHERE type IN ('ticket.created', 'ticket.updated') AND seller_id = $seller
    GROUP BY ticket_id
),
views AS (
    SELECT ticket_id, count(*) AS views
    FROM events
    WHERE type = 'ticket.viewed' AND {IN_RANGE} AND user_id IS DISTINCT FROM $seller
      AND ticket_id IN (SELECT ticket_id FROM seller_tickets)
    GROUP BY ticket_id
)
SELECT t.ticket_id, coalesce(t.title, ''), coalesce(v.views, 0) AS views
FROM seller_tickets t LEFT JOIN views v ON t.ticket_id = v.ticket_id
WHERE t.listed_at < $end
ORDER BY views DESC, t.ticket_id
LIMIT {TICKETS_SHOWN}
"""

MARKET_SALES = f"""
WITH {PAID_IN_RANGE.strip()},
facts AS (
    SELECT CAST(p.paid_at AS DATE) AS day, 'paid' AS kind, p.order_id AS id, o.price
    FROM paid p JOIN (
        SELECT order_id, any_value(price) AS price
        FROM events
        WHERE type = 'order.created'
        GROUP BY order_id
    ) o ON p.order_id = o.order_id
    UNION ALL
    SELECT CAST(occurred_at AS DATE), 'ordered', order_id, NULL
    FROM events
    WHERE type = 'order.created' AND {IN_RANGE}
)
SELECT day,
       coalesce(sum(price) FILTER (WHERE kind = 'paid'), 0),
       count(DISTINCT id) FILTER (WHERE kind = 'ordered'),
       count(DISTINCT id) FILTER (WHERE kind = 'paid')
FROM facts
GROUP BY GROUPING SETS ((day), ())
"""

MARKET_ACTIVE = f"""
WITH {IDENTITIES.strip()},
acts AS (
    SELECT CAST(e.occurred_at AS DATE) AS day, {VISITOR} AS visitor
    FROM events e LEFT JOIN identities i ON e.anonymous_id = i.anonymous_id
    WHERE e.type IN ({ACTIONS}) AND {in_range("e")}
      AND (e.user_id <> '' OR e.anonymous_id <> '')
)
SELECT day,
       count(DISTINCT visitor),
       count(DISTINCT visitor) FILTER (WHERE visitor LIKE 'a:%')
FROM acts
GROUP BY GROUPING SETS ((day), ())
"""

MARKET_FUNNEL = f"""
WITH {IDENTITIES.strip()},
{PAID_IN_RANGE.strip()},
steps AS (
    SELECT {VISITOR} AS visitor, e.type = 'ticket.viewed' AS viewed, e.type <> 'ticket.viewed'
           AS ordered, false AS paid
    FROM events e LEFT JOIN identities i ON e.anonymous_id = i.anonymous_id
    WHERE e.type IN ('ticket.viewed', 'order.started', 'order.created')
      AND {in_range("e")}
      AND (e.user_id <> '' OR e.anonymous_id <> '')
    UNION ALL
    SELECT 'u:' || o.user_id, false, false, true
    FROM paid p JOIN events o ON o.order_id = p.order_id
    WHERE o.type = 'order.created' AND o.user_id <> ''
),
visitors AS (
    SELECT bool_or(viewed) AS viewed, bool_or(ordered) AS ordered, bool_or(paid) AS paid
    FROM steps
    GROUP BY visitor
)
SELECT count(*) FILTER (WHERE viewed),
       count(*) FILTER (WHERE viewed AND ordered),
       count(*) FILTER (WHERE viewed AND ordered AND paid)
FROM visitors
"""

MARKET_OUTCOMES = f"""
WITH {PAID_IN_RANGE.strip()},
cancelled AS (
    SELECT order_id, bool_or(detail = 'EXPIRED') AS expired
    FROM events
    WHERE type = 'order.cancelled' AND {IN_RANGE}
    GROUP BY order_id
)
SELECT (SELECT count(*) FILTER (WHERE expired) FROM cancelled),
       (SELECT count(*) FROM (SELECT order_id FROM cancelled UNION SELECT order_id FROM paid)),
       (SELECT count(*) FROM events WHERE type = 'charge.failed' AND {IN_RANGE}),
       (SELECT count(*) FROM paid)
"""

TOP_SELLERS_SQL = f"""
WITH {PAID_IN_RANGE.strip()},
orders AS (
    SELECT order_id, any_value(ticket_id) AS ticket_id, any_value(price) AS price
    FROM events
    WHERE type = 'order.created' AND order_id IN (SELECT order_id FROM paid)
    GROUP BY order_id
),
sellers AS (
    SELECT ticket_id, any_value(seller_id) AS seller_id
    FROM events
    WHERE type IN ('ticket.created', 'ticket.updated') AND seller_id <> ''
      AND ticket_id IN (SELECT ticket_id FROM orders)
    GROUP BY ticket_id
)
SELECT s.seller_id, sum(o.price) AS revenue, count(*) AS sold
FROM orders o JOIN sellers s ON o.ticket_id = s.ticket_id
GROUP BY s.seller_id
ORDER BY revenue DESC, sold DESC, s.seller_id
LIMIT $top_sellers
"""

PRICE_DISTRIBUTION = f"""
WITH {PAID_IN_RANGE.strip()},
prices AS (
    SELECT 'listed' AS kind, price
    FROM events
    WHERE type = 'ticket.created' AND {IN_RANGE} AND price IS NOT NULL
    UNION ALL
    SELECT 'sold', o.price
    FROM paid p JOIN events o ON o.order_id = p.order_id
    WHERE o.type = 'order.created' AND o.price IS NOT NULL
)
SELECT {_bucket_of("price")} AS bucket,
       count(*) FILTER (WHERE kind = 'listed'),
       count(*) FILTER (WHERE kind = 'sold')
FROM prices
GROUP BY bucket
"""


def _money(value: Any) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


def seller_report(
    cursor: duckdb.DuckDBPyConnection, seller_id: str, days: DayRange
) -> SellerReport:
    params = {"seller": seller_id, "start": days.start, "end": days.end}
    rows = cursor.execute(SELLER_DAYS, params).fetchall()
    tickets = cursor.execute(SELLER_TICKETS, params).fetchall()
    by_day: dict[date | None, SellerFigures] = {
        day: SellerFigures(
            listed=listed,
            sold=sold,
            expired_unpaid=expired,
            revenue=_money(revenue),
            median_seconds_to_sell=_seconds(median),
            views=views,
        )
        for day, listed, sold, expired, revenue, median, views in rows
    }
    totals = by_day.pop(None, SellerFigures())
    return SellerReport(
        seller_id=seller_id,
        range=days,
        totals=totals,
        days=every_seller_day(days, by_day),  # type: ignore[arg-type]
        tickets=tuple(TicketViews(t, title, views) for t, title, views in tickets),
    )


def market_report(
    cursor: duckdb.DuckDBPyConnection, days: DayRange, top_sellers: int
) -> MarketReport:
    params = {"start": days.start, "end": days.end}
    sales = cursor.execute(MARKET_SALES, params).fetchall()
    active = cursor.execute(MARKET_ACTIVE, params).fetchall()
    funnel = cursor.execute(MARKET_FUNNEL, params).fetchone()
    outcomes = cursor.execute(MARKET_OUTCOMES, params).fetchone()
    sellers = cursor.execute(TOP_SELLERS_SQL, {**params, "top_sellers": top_sellers}).fetchall()
    buckets = cursor.execute(PRICE_DISTRIBUTION, params).fetchall()
    assert funnel is not None and outcomes is not None  # aggregates always return a row
    sales_by_day = {day: (gmv, orders, paid) for day, gmv, orders, paid in sales}
    active_by_day = {day: (users, anonymous) for day, users, anonymous in active}

    def market_day(day: date | None) -> MarketDay:
        gmv, orders, paid = sales_by_day.get(day, (0, 0, 0))
        users, anonymous = active_by_day.get(day, (0, 0))
        return MarketDay(
            day=day or days.first,
            gmv=_money(gmv),
            orders=orders,
            paid_orders=paid,
            active_users=users,
            anonymous=anonymous,
        )

    found = [market_day(day) for day in (sales_by_day.keys() | active_by_day.keys()) if day]
    expired, ended, declined, paid = outcomes
    return MarketReport(
        range=days,
        totals=market_day(None),
        days=every_market_day(days, found),
        funnel=Funnel(*funnel),
        expired=Outcomes(count=expired, of=ended),
        declined=Outcomes(count=declined, of=declined + paid),
        top_sellers=tuple(TopSeller(s, _money(revenue), sold) for s, revenue, sold in sellers),
        price_distribution=price_buckets(
            listed={bucket: listed for bucket, listed, _ in buckets},
            sold={bucket: sold for bucket, _, sold in buckets},
        ),
    )


class DuckDBReports:
    """The reports, read from the insights store on its reader threads."""

    def __init__(self, store: DuckDBEventStore) -> None:
        self._store = store

    async def seller_report(self, seller_id: str, days: DayRange) -> SellerReport:
        return await self._store.read(lambda cursor: seller_report(cursor, seller_id, days))

    async def market_report(self, days: DayRange, top_sellers: int) -> MarketReport:
        return await self._store.read(lambda cursor: market_report(cursor, days, top_sellers))
