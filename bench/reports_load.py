"""A synthetic marketplace of about a million events, written straight into an insights store's
`events` table by DuckDB itself (INSERT ... SELECT over range(): seconds, not the minutes a
million single inserts would take), in the order the consumer would have appended them.

The shape, over DAYS days: SELLERS sellers list TICKETS tickets (a few sellers list most of
them), BUYERS users and ANONYMOUS visitors view them in visits of SESSION_VIEWS views (60 %
signed in; views skewed towards the tickets listed last),
browse, start and place ORDERS orders; 70 % are paid, 20 % expire unpaid, 10 % are declined.
Everything is derived from row numbers and DuckDB's seeded random(), so a run's figures are
comparable with the next's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb

from svc_insights.domain.model import EventRow

DAYS = 180
FIRST_DAY = date(2025, 10, 3)
LAST_DAY = FIRST_DAY + timedelta(days=DAYS - 1)
SELLERS = 2_000
BUYERS = 50_000
ANONYMOUS = 100_000
SESSION_VIEWS = 6  # a visit views this many tickets, 40 s apart


@dataclass(frozen=True)
class Shape:
    tickets: int
    orders: int
    views: int
    browses: int
    sign_ups: int

    @classmethod
    def of_total(cls, events: int) -> Shape:
        """Proportions of a marketplace with `events` events in all (1,000,000: 60,000 tickets,
        50,000 orders, 595,000 views)."""
        scale = events / 1_000_000
        return cls(
            tickets=int(60_000 * scale),
            orders=int(50_000 * scale),
            views=int(595_000 * scale),
            browses=int(100_000 * scale),
            sign_ups=int(30_000 * scale),
        )

    @property
    def total(self) -> int:
        # ticket.created, and per order: order.started, order.created, ticket.updated, then
        # charge.created (70 %) or order.expired + order.cancelled (20 %) or charge.failed +
        # order.cancelled (10 %).
        return self.tickets + self.orders * 43 // 10 + self.views + self.browses + self.sign_ups


START = datetime.combine(FIRST_DAY, datetime.min.time())
SPAN_SECONDS = DAYS * 86_400


def _staging(shape: Shape) -> str:
    """Every event as one SELECT; ticket i is listed at ticket_at(i), order j is on ticket
    (j * tickets / orders) some hours after its listing, and everything else follows."""
    ticket_step = SPAN_SECONDS * 0.9 / shape.tickets  # the last tenth of the span: no new listing
    ticket_at = (
        f"TIMESTAMP '{START}' + to_microseconds(CAST(({{i}}) * {ticket_step} * 1e6 AS BIGINT))"
    )
    order_ticket = f"CAST(floor(j * {shape.tickets} / {shape.orders}) AS BIGINT)"
    order_at = f"({ticket_at.format(i=order_ticket)} + to_seconds(600 + (j % 97) * 1800))"
    seller = f"'s' || CAST(floor({SELLERS} * pow(hash(i) % 1000003 / 1000003.0, 2)) AS BIGINT)"
    price = "CAST(round(5 + exp((hash(i * 7) % 10007) / 10007.0 * 6.5), 2) AS DECIMAL(18, 2))"
    ticket_price = price.replace("i * 7", "({t}) * 7")
    buyer = "'u' || (hash(j * 13) % " + str(BUYERS) + ")"
    return f"""
    WITH tickets AS (
        SELECT i, 't' || i AS ticket_id, {seller} AS seller_id, {price} AS price,
               {ticket_at.format(i="i")} AS happened
        FROM range({shape.tickets}) r(i)
    ),
    orders AS (
        SELECT j, 'o' || j AS order_id, 't' || {order_ticket} AS ticket_id, {buyer} AS buyer,
               'a' || (hash(j * 13) % {BUYERS}) AS anonymous_id,
               {ticket_price.format(t=order_ticket)} AS price, {order_at} AS happened,
               j % 10 AS outcome
        FROM range({shape.orders}) r(j)
    ),
    sellers_of AS (SELECT ticket_id, seller_id FROM tickets)
    SELECT 'tc' || i, 'ticket.created', happened, seller_id, NULL, ticket_id, '', seller_id, price,
           'Concert ' || i, NULL, 0
    FROM tickets
    UNION ALL
    SELECT 'os' || j, 'order.started', happened - INTERVAL 1 SECOND, buyer, anonymous_id, ticket_id,
           NULL, NULL, NULL, NULL, NULL, NULL
    FROM orders
    UNION ALL
    SELECT 'oc' || j, 'order.created', happened, buyer, NULL, ticket_id, order_id, NULL, price,
           NULL, NULL, 0
    FROM orders
    UNION ALL
    SELECT 'tu' || j, 'ticket.updated', happened + INTERVAL 1 SECOND, s.seller_id, NULL,
           o.ticket_id, order_id, s.seller_id, price, NULL, NULL, 1
    FROM orders o JOIN sellers_of s USING (ticket_id)
    UNION ALL
    SELECT 'cc' || j, 'charge.created', happened + INTERVAL 2 MINUTE, NULL, NULL, NULL,
           order_id, NULL, price, NULL, 'pi_' || j, NULL
    FROM orders WHERE outcome < 7
    UNION ALL
    SELECT 'oe' || j, 'order.expired', happened + INTERVAL 15 MINUTE, NULL, NULL, NULL,
           order_id, NULL, NULL, NULL, NULL, NULL
    FROM orders WHERE outcome IN (7, 8)
    UNION ALL
    SELECT 'cf' || j, 'charge.failed', happened + INTERVAL 1 MINUTE, NULL, NULL, NULL,
           order_id, NULL, NULL, NULL, 'Your card was declined.', NULL
    FROM orders WHERE outcome = 9
    UNION ALL
    SELECT 'ox' || j, 'order.cancelled', happened + CASE WHEN outcome = 9 THEN INTERVAL 61 SECOND
           ELSE INTERVAL 901 SECOND END, NULL, NULL, ticket_id, order_id, NULL, NULL, NULL,
           CASE WHEN outcome = 9 THEN 'PAYMENT_FAILED' ELSE 'EXPIRED' END, 1
    FROM orders WHERE outcome >= 7
    UNION ALL
    SELECT 'tv' || k, 'ticket.viewed', session_at + to_seconds((k % {SESSION_VIEWS}) * 40),
           CASE WHEN signed_in THEN 'u' || visitor END,
           CASE WHEN signed_in THEN 'a' || visitor ELSE 'n' || visitor END,
           't' || CAST(listed_before - floor(pow(random(), 3) * listed_before) AS BIGINT),
           NULL, NULL, NULL, NULL, NULL, NULL
    FROM (
        SELECT k, session_at, hash(session) % 5 < 3 AS signed_in,
               hash(session * 7) % CASE WHEN hash(session) % 5 < 3 THEN {BUYERS}
                                        ELSE {ANONYMOUS} END AS visitor,
               least({shape.tickets - 1}, floor(epoch(session_at - TIMESTAMP '{START}')
                                                  / {ticket_step})) AS listed_before
        FROM (
            SELECT k, k // {SESSION_VIEWS} AS session,
                   TIMESTAMP '{START}' + to_seconds(hash(k // {SESSION_VIEWS}) % {SPAN_SECONDS})
                   AS session_at
            FROM range({shape.views}) r(k)
        )
    )
    UNION ALL
    SELECT 'tb' || k, 'tickets.browsed',
           TIMESTAMP '{START}' + to_microseconds(CAST(random() * {SPAN_SECONDS} * 1e6 AS BIGINT)),
           CASE WHEN k % 2 = 0 THEN 'u' || (hash(k) % {BUYERS}) END,
           'n' || (hash(k * 5) % {ANONYMOUS}), NULL, NULL, NULL, NULL, NULL, '{{"first":20}}',
           NULL
    FROM range({shape.browses}) r(k)
    UNION ALL
    SELECT 'uc' || k, 'user.created',
           TIMESTAMP '{START}' + to_microseconds(CAST(k * {SPAN_SECONDS / max(shape.sign_ups, 1)}
           * 1e6 AS BIGINT)), 'u' || k, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM range({shape.sign_ups}) r(k)
    """


def load(connection: duckdb.DuckDBPyConnection, shape: Shape) -> int:
    """Appends the marketplace to `events` in time order (as the consumer would have); the
    number of rows there afterwards."""
    connection.execute("SELECT setseed(0.42)")
    connection.execute(f"CREATE TEMP TABLE staging AS {_staging(shape)}")
    connection.execute("INSERT INTO events SELECT * FROM staging ORDER BY 3")
    connection.execute("DROP TABLE staging")
    connection.execute("CHECKPOINT")
    (count,) = connection.execute("SELECT count(*) FROM events").fetchone() or (0,)
    return count


def sellers_by_size(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Every seller, the one with the most tickets first."""
    rows = connection.execute(
        "SELECT seller_id FROM events WHERE type = 'ticket.created' "
        "GROUP BY seller_id ORDER BY count(*) DESC, seller_id"
    ).fetchall()
    return [seller for (seller,) in rows]


def next_day_rows(count: int) -> list[EventRow]:
    """`count` events of the day after the marketplace's last, as the consumer would keep them:
    purchases (listed, viewed a few times, started, ordered, paid) and browsing, cycling."""
    day = datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time())
    rows: list[EventRow] = []
    n = 0
    while len(rows) < count:
        at = day + timedelta(seconds=n * 7)
        ticket, order, seller = f"next-t{n}", f"next-o{n}", f"s{n % SELLERS}"
        buyer, anonymous = f"u{(n * 31) % BUYERS}", f"a{(n * 31) % BUYERS}"
        price = Decimal(5 + n % 300)
        rows += [
            EventRow(f"next-tc{n}", "ticket.created", at, user_id=seller, ticket_id=ticket,
                     order_id="", seller_id=seller, price=price, title=f"Next {n}", version=0),
            *(
                EventRow(f"next-tv{n}-{k}", "ticket.viewed", at + timedelta(seconds=1 + k),
                         user_id=buyer, anonymous_id=anonymous, ticket_id=ticket)
                for k in range(4)
            ),
            EventRow(f"next-tb{n}", "tickets.browsed", at, anonymous_id=f"n{n % ANONYMOUS}",
                     detail='{"first":20}'),
            EventRow(f"next-os{n}", "order.started", at + timedelta(seconds=5), user_id=buyer,
                     anonymous_id=anonymous, ticket_id=ticket),
            EventRow(f"next-oc{n}", "order.created", at + timedelta(seconds=5), user_id=buyer,
                     ticket_id=ticket, order_id=order, price=price, version=0),
            EventRow(f"next-tu{n}", "ticket.updated", at + timedelta(seconds=6), user_id=seller,
                     ticket_id=ticket, order_id=order, seller_id=seller, price=price,
                     title=f"Next {n}", version=1),
            EventRow(f"next-cc{n}", "charge.created", at + timedelta(seconds=6), order_id=order,
                     price=price, detail=f"pi_next{n}"),
        ]  # fmt: skip
        n += 1
    return rows[:count]
