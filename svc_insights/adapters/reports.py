"""The reports as SQL over the tables derived from the events (report_tables.py).

The definitions these queries implement are in domain/reports.py. Times are naive UTC; a range
is half-open ([range.start, range.end)) on times and inclusive on days.

A report runs on one of the store's reader threads with that thread's cursor (DuckDB runs the
query on its own threads and releases the GIL meanwhile), beside the consumer's writes, its
statements in one read transaction: a report sees the last commit before it began, events and
derived tables alike, and nothing committed while it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from svc_insights.adapters.duckdb_store import DuckDBEventStore
from svc_insights.domain.reports import (
    PRICE_BUCKET_BOUNDS,
    Amount,
    DayRange,
    Funnel,
    MarketDay,
    MarketReport,
    Outcomes,
    SellerFigures,
    SellerReport,
    TicketViews,
    TopSeller,
    amounts,
    every_market_day,
    every_seller_day,
    price_buckets,
)

# The most viewed of a seller's tickets a report lists.
TICKETS_SHOWN = 100


def in_range(column: str) -> str:
    return f"{column} >= $start AND {column} < $end"


def on_days(column: str) -> str:
    return f"{column} BETWEEN $first AND $last"


# The visitor behind each report_visits row of the range: a user (`user_key`: its own, or the
# one its anonymous id is known as, kept in visitor_id by the writer) or else an anonymous id
# (`anon_key`), never both. Two columns rather than one prefixed string: distinct users plus
# distinct anonymous ids is the number of visitors, and grouping by the pair needs no string
# built per row.
VISITS = f"""
    visits AS (
        SELECT day,
               nullif(visitor_id, '') AS user_key,
               CASE WHEN visitor_id = '' THEN anonymous_id END AS anon_key,
               viewed, ordered
        FROM report_visits
        WHERE {on_days("day")}
    )"""


def _bucket_of(price: str) -> str:
    """The index of the PRICE_BUCKET_BOUNDS bucket `price` falls in (constants, not input)."""
    whens = " ".join(
        f"WHEN {price} < {upper} THEN {n}" for n, upper in enumerate(PRICE_BUCKET_BOUNDS[1:])
    )
    return f"CASE {whens} ELSE {len(PRICE_BUCKET_BOUNDS) - 1} END"


SELLER_DAYS = f"""
WITH tickets AS (
    SELECT ticket_id, listed_at FROM report_tickets WHERE seller_id = $seller
),
orders AS (
    SELECT o.order_id, o.price, o.paid_at, o.expired_at, t.listed_at
    FROM report_orders o JOIN tickets t ON o.ticket_id = t.ticket_id
),
facts AS (
    SELECT CAST(listed_at AS DATE) AS day, 'listed' AS kind, 1 AS n,
           NULL::DECIMAL(18, 2) AS price, NULL::DOUBLE AS seconds
    FROM tickets WHERE {in_range("listed_at")}
    UNION ALL
    SELECT CAST(paid_at AS DATE), 'sold', 1, price, epoch(paid_at - listed_at)
    FROM orders WHERE {in_range("paid_at")}
    UNION ALL
    SELECT CAST(expired_at AS DATE), 'expired', 1, NULL, NULL
    FROM orders WHERE {in_range("expired_at")}
    UNION ALL
    SELECT v.day, 'viewed', v.views, NULL, NULL
    FROM report_views v JOIN tickets t ON v.ticket_id = t.ticket_id
    WHERE {on_days("v.day")} AND v.viewer_id <> $seller
)
SELECT day,
       coalesce(sum(n) FILTER (WHERE kind = 'listed'), 0),
       coalesce(sum(n) FILTER (WHERE kind = 'sold'), 0),
       coalesce(sum(n) FILTER (WHERE kind = 'expired'), 0),
       coalesce(sum(price) FILTER (WHERE kind = 'sold'), 0),
       median(seconds) FILTER (WHERE kind = 'sold'),
       coalesce(sum(n) FILTER (WHERE kind = 'viewed'), 0)
FROM facts
GROUP BY GROUPING SETS ((day), ())
"""

# The currency of a row whose event named none (from before v1, when all were USD).
ORDER_CURRENCY = "coalesce(o.currency, 'USD')"

# The seller's revenue per currency, per day and over the range (NULL day).
SELLER_REVENUE = f"""
WITH sales AS (
    SELECT CAST(o.paid_at AS DATE) AS day, {ORDER_CURRENCY} AS currency, o.price
    FROM report_orders o JOIN report_tickets t ON o.ticket_id = t.ticket_id
    WHERE t.seller_id = $seller AND {in_range("o.paid_at")} AND o.price IS NOT NULL
)
SELECT day, currency, sum(price)
FROM sales
GROUP BY GROUPING SETS ((day, currency), (currency))
"""

SELLER_TICKETS = f"""
WITH tickets AS (
    SELECT ticket_id, coalesce(title, '') AS title
    FROM report_tickets
    WHERE seller_id = $seller AND listed_at < $end
),
views AS (
    SELECT v.ticket_id, sum(v.views) AS views
    FROM report_views v JOIN tickets t ON v.ticket_id = t.ticket_id
    WHERE {on_days("v.day")} AND v.viewer_id <> $seller
    GROUP BY v.ticket_id
)
SELECT t.ticket_id, t.title, coalesce(v.views, 0) AS views
FROM tickets t LEFT JOIN views v ON t.ticket_id = v.ticket_id
ORDER BY views DESC, t.ticket_id
LIMIT {TICKETS_SHOWN}
"""

MARKET_SALES = f"""
WITH facts AS (
    SELECT CAST(paid_at AS DATE) AS day, 'paid' AS kind, price
    FROM report_orders WHERE {in_range("paid_at")}
    UNION ALL
    SELECT CAST(created_at AS DATE), 'ordered', NULL
    FROM report_orders WHERE {in_range("created_at")}
)
SELECT day,
       coalesce(sum(price) FILTER (WHERE kind = 'paid'), 0),
       count(*) FILTER (WHERE kind = 'ordered'),
       count(*) FILTER (WHERE kind = 'paid')
FROM facts
GROUP BY GROUPING SETS ((day), ())
"""

# GMV per currency, per day and over the range (NULL day).
MARKET_GMV = f"""
WITH sales AS (
    SELECT CAST(o.paid_at AS DATE) AS day, {ORDER_CURRENCY} AS currency, o.price
    FROM report_orders o
    WHERE {in_range("o.paid_at")} AND o.price IS NOT NULL
)
SELECT day, currency, sum(price)
FROM sales
GROUP BY GROUPING SETS ((day, currency), (currency))
"""

# Active visitors per day and over the range, and the funnel, in one statement.
MARKET_VISITORS = f"""
WITH {VISITS.strip()},
active AS (
    SELECT day,
           count(DISTINCT user_key) + count(DISTINCT anon_key) AS users,
           count(DISTINCT anon_key) AS anonymous
    FROM visits
    GROUP BY GROUPING SETS ((day), ())
),
steps AS (
    SELECT user_key, anon_key, viewed, ordered, false AS paid
    FROM visits WHERE viewed OR ordered
    UNION ALL
    SELECT buyer_id, NULL, false, false, true
    FROM report_orders WHERE {in_range("paid_at")} AND buyer_id <> ''
),
funnel AS (
    SELECT count(*) FILTER (WHERE viewed) AS viewed,
           count(*) FILTER (WHERE viewed AND ordered) AS ordered,
           count(*) FILTER (WHERE viewed AND ordered AND paid) AS paid
    FROM (
        SELECT bool_or(viewed) AS viewed, bool_or(ordered) AS ordered, bool_or(paid) AS paid
        FROM steps
        GROUP BY user_key, anon_key
    )
)
SELECT a.day, a.users, a.anonymous, f.viewed, f.ordered, f.paid
FROM funnel f LEFT JOIN active a ON true
"""

MARKET_OUTCOMES = f"""
SELECT count(*) FILTER (WHERE {in_range("expired_at")}),
       count(*) FILTER (WHERE {in_range("paid_at")} OR {in_range("cancelled_at")}),
       (SELECT coalesce(sum(declined), 0) FROM report_declines WHERE {on_days("day")}),
       count(*) FILTER (WHERE {in_range("paid_at")})
FROM report_orders
"""

# By tickets sold; the summed revenue only breaks ties (it compares within one currency).
TOP_SELLERS_SQL = f"""
WITH per_currency AS (
    SELECT t.seller_id, {ORDER_CURRENCY} AS currency, sum(o.price) AS revenue, count(*) AS sold
    FROM report_orders o JOIN report_tickets t ON o.ticket_id = t.ticket_id
    WHERE {in_range("o.paid_at")} AND t.seller_id <> ''
    GROUP BY ALL
)
SELECT seller_id, sum(revenue) AS revenue, sum(sold) AS sold,
       list((currency, revenue) ORDER BY currency) FILTER (WHERE revenue IS NOT NULL)
FROM per_currency
GROUP BY seller_id
ORDER BY sold DESC, revenue DESC NULLS LAST, seller_id
LIMIT $top_sellers
"""

PRICE_DISTRIBUTION = f"""
WITH prices AS (
    SELECT 'listed' AS kind, listed_price AS price, coalesce(listed_currency, 'USD') AS currency
    FROM report_tickets WHERE {in_range("listed_at")} AND listed_price IS NOT NULL
    UNION ALL
    SELECT 'sold', o.price, {ORDER_CURRENCY}
    FROM report_orders o WHERE {in_range("o.paid_at")} AND o.price IS NOT NULL
)
SELECT currency, {_bucket_of("price")} AS bucket,
       count(*) FILTER (WHERE kind = 'listed'),
       count(*) FILTER (WHERE kind = 'sold')
FROM prices
GROUP BY currency, bucket
"""


def _range(days: DayRange) -> dict[str, Any]:
    return {"start": days.start, "end": days.end, "first": days.first, "last": days.last}


def _run(cursor: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> Any:
    """DuckDB refuses parameters a statement does not use: each gets those it names."""
    return cursor.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


def _money(value: Any) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def _by_day_and_currency(
    rows: list[tuple[date | None, str, Any]],
) -> dict[date | None, tuple[Amount, ...]]:
    """(day, currency, sum) rows as amounts per day (None: the range's)."""
    found: dict[date | None, dict[str, Decimal]] = {}
    for day, currency, total in rows:
        found.setdefault(day, {})[currency] = _money(total)
    return {day: amounts(by_currency) for day, by_currency in found.items()}


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


@contextmanager
def _snapshot(cursor: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """A report's statements in one read transaction: all of them see the same commits, even
    while the writer commits between them."""
    cursor.begin()
    try:
        yield
    finally:
        cursor.rollback()  # nothing was written


def seller_report(
    cursor: duckdb.DuckDBPyConnection, seller_id: str, days: DayRange
) -> SellerReport:
    params = {"seller": seller_id, **_range(days)}
    with _snapshot(cursor):
        rows = _run(cursor, SELLER_DAYS, params).fetchall()
        revenue_rows = _run(cursor, SELLER_REVENUE, params).fetchall()
        tickets = _run(cursor, SELLER_TICKETS, params).fetchall()
    revenue_by_day = _by_day_and_currency(revenue_rows)
    by_day: dict[date | None, SellerFigures] = {
        day: SellerFigures(
            listed=listed,
            sold=sold,
            expired_unpaid=expired,
            revenue=_money(revenue),
            median_seconds_to_sell=_seconds(median),
            views=views,
            revenue_by_currency=revenue_by_day.get(day, ()),
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
    params = {**_range(days), "top_sellers": top_sellers}
    with _snapshot(cursor):
        sales = _run(cursor, MARKET_SALES, params).fetchall()
        gmv_rows = _run(cursor, MARKET_GMV, params).fetchall()
        visitors = _run(cursor, MARKET_VISITORS, params).fetchall()
        outcomes = _run(cursor, MARKET_OUTCOMES, params).fetchone()
        sellers = _run(cursor, TOP_SELLERS_SQL, params).fetchall()
        buckets = _run(cursor, PRICE_DISTRIBUTION, params).fetchall()
    assert outcomes is not None  # an aggregate always returns a row
    sales_by_day = {day: (gmv, orders, paid) for day, gmv, orders, paid in sales}
    gmv_by_day = _by_day_and_currency(gmv_rows)
    # One row per day with visitors and one for the range (NULL day), each with the funnel.
    active_by_day = {day: (users or 0, anonymous or 0) for day, users, anonymous, *_ in visitors}
    funnel = visitors[0][3:]

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
            gmv_by_currency=gmv_by_day.get(day, ()),
        )

    found = {day: market_day(day) for day in sales_by_day.keys() | active_by_day.keys() if day}
    expired, ended, declined, paid = outcomes
    return MarketReport(
        range=days,
        totals=market_day(None),
        days=every_market_day(days, found),
        funnel=Funnel(*funnel),
        expired=Outcomes(count=expired, of=ended),
        declined=Outcomes(count=declined, of=declined + paid),
        top_sellers=tuple(
            TopSeller(
                s,
                _money(revenue or 0),
                sold,
                amounts({currency: _money(total) for currency, total in by_currency or ()}),
            )
            for s, revenue, sold, by_currency in sellers
        ),
        price_distribution=price_buckets(
            listed={(currency, bucket): listed for currency, bucket, listed, _ in buckets},
            sold={(currency, bucket): sold for currency, bucket, _, sold in buckets},
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
