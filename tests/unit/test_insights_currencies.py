"""Amounts in the reports are per currency, never added across currencies (docs/api.md DOM-5):
tickets listed, orders and charges carry their currency from their events (USD for an event from
before v1, which named none), and revenue, GMV, top sellers and price buckets say which."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from common.protos import timestamp
from svc_insights.adapters.duckdb_store import DuckDBEventStore
from svc_insights.adapters.report_tables import ReportTables
from svc_insights.adapters.reports import DuckDBReports
from svc_insights.domain.reports import TOP_SELLERS, Amount, DayRange, PriceBucket, TopSeller
from tests.support.insights_events import EventStream, at
from ticketing.events.v1 import orders_pb2, payments_pb2, tickets_pb2
from ticketing.orders.v1 import orders_pb2 as orders_api

APRIL = DayRange.of(date(2026, 4, 1), date(2026, 4, 2))
D1, D2 = APRIL.days()


def money(*amounts: tuple[str, str]) -> tuple[Amount, ...]:
    return tuple(Amount(Decimal(amount), code) for amount, code in amounts)


class Sales(EventStream):
    """A listing and its sale, in a currency ("" for an event from before v1)."""

    def sale(self, listed: str, paid: str, n: int, seller: str, price: str, currency: str):
        ticket, order = f"T{n}", f"O{n}"
        self.add(
            listed,
            tickets_pb2.TicketCreated(
                id=ticket, title=f"title {n}", price=price, user_id=seller, currency_code=currency
            ),
        )
        self.add(
            paid,
            orders_pb2.OrderCreated(
                id=order,
                user_id=f"B{n}",
                status=orders_api.ORDER_STATUS_CREATED,
                expires_at=timestamp(at(paid)),
                ticket=orders_pb2.OrderCreated.Ticket(
                    id=ticket, price=price, currency_code=currency
                ),
            ),
        )
        cents = int(Decimal(price) * 100)
        self.add(
            paid,
            payments_pb2.ChargeCreated(
                id=f"pay-{n}", order_id=order, amount=cents, currency_code=currency
            ),
        )
        return self


def april_sales() -> Sales:
    s = Sales()
    # S1 sells in USD (one from before v1, naming no currency) and in EUR.
    s.sale("2026-04-01 09:00:00", "2026-04-01 10:00:00", 1, "S1", "20.00", "USD")
    s.sale("2026-04-01 09:05:00", "2026-04-01 11:00:00", 2, "S1", "30.00", "EUR")
    s.sale("2026-04-01 09:10:00", "2026-04-02 12:00:00", 3, "S1", "5.00", "")
    # S2 sells four in EUR: more tickets, less money than S1.
    s.sale("2026-04-01 09:20:00", "2026-04-01 13:00:00", 4, "S2", "12.50", "EUR")
    s.sale("2026-04-01 09:25:00", "2026-04-02 13:00:00", 5, "S2", "12.50", "EUR")
    s.sale("2026-04-01 09:30:00", "2026-04-02 14:00:00", 6, "S2", "5.00", "EUR")
    s.sale("2026-04-01 09:35:00", "2026-04-02 15:00:00", 7, "S2", "5.00", "EUR")
    return s


@pytest.fixture
async def reports() -> AsyncIterator[DuckDBReports]:
    store = DuckDBEventStore(":memory:", derived=[ReportTables()])
    await store.start()
    await april_sales().store_into(store)
    yield DuckDBReports(store)
    await store.close()


async def test_a_sellers_revenue_is_one_amount_per_currency(reports) -> None:
    report = await reports.seller_report("S1", APRIL)

    # Day 1: O1 20.00 USD, O2 30.00 EUR. Day 2: O3 5.00, its events naming no currency: USD.
    assert report.totals.revenue_by_currency == money(("30.00", "EUR"), ("25.00", "USD"))
    assert [d.figures.revenue_by_currency for d in report.days] == [
        money(("30.00", "EUR"), ("20.00", "USD")),
        money(("5.00", "USD")),
    ]
    assert report.totals.sold == 3
    # The deprecated single figure stays what it was (a sum of numbers, whatever the currency).
    assert report.totals.revenue == Decimal("55.00")


async def test_gmv_is_one_amount_per_currency_per_day_and_over_the_range(reports) -> None:
    report = await reports.market_report(APRIL, TOP_SELLERS)

    # EUR: O2 30 + O4 12.50 on day 1; O5 12.50 + O6 5 + O7 5 on day 2. USD: O1 20 on day 1,
    # O3 5 on day 2.
    assert report.totals.gmv_by_currency == money(("65.00", "EUR"), ("25.00", "USD"))
    assert [d.gmv_by_currency for d in report.days] == [
        money(("42.50", "EUR"), ("20.00", "USD")),
        money(("22.50", "EUR"), ("5.00", "USD")),
    ]
    assert report.totals.paid_orders == 7


async def test_top_sellers_rank_by_tickets_sold_with_revenue_per_currency(reports) -> None:
    report = await reports.market_report(APRIL, TOP_SELLERS)

    # S2 sold 4 (35.00 EUR), S1 3 (30.00 EUR and 25.00 USD): tickets sold rank, not money.
    assert report.top_sellers == (
        TopSeller("S2", Decimal("35.00"), 4, money(("35.00", "EUR"))),
        TopSeller("S1", Decimal("55.00"), 3, money(("30.00", "EUR"), ("25.00", "USD"))),
    )


async def test_price_buckets_are_per_currency(reports) -> None:
    report = await reports.market_report(APRIL, TOP_SELLERS)

    by_currency: dict[str, list[PriceBucket]] = {}
    for bucket in report.price_distribution:
        by_currency.setdefault(bucket.currency, []).append(bucket)
    assert list(by_currency) == ["EUR", "USD"]  # in code order, every bucket of each
    assert all(len(buckets) == 8 for buckets in by_currency.values())

    def counted(currency: str) -> list[tuple[str, int, int]]:
        return [(str(b.lower), b.listed, b.sold) for b in by_currency[currency] if b.listed]

    # EUR: T6, T7 5 in [0, 10); T4, T5 12.50 in [10, 25); T2 30 in [25, 50). USD: T3 5, T1 20.
    assert counted("EUR") == [("0", 2, 2), ("10", 2, 2), ("25", 1, 1)]
    assert counted("USD") == [("0", 1, 1), ("10", 1, 1)]


async def test_events_keep_their_currency_and_one_without_is_usd(reports) -> None:
    def read(cursor) -> list[tuple]:
        return cursor.execute(
            "SELECT type, currency FROM events WHERE order_id = 'O2' OR order_id = 'O3'"
            " OR ticket_id IN ('T2', 'T3') ORDER BY type, currency"
        ).fetchall()

    rows = await reports._store.read(read)
    assert rows == [
        ("charge.created", "EUR"),
        ("charge.created", "USD"),
        ("order.created", "EUR"),
        ("order.created", "USD"),
        ("ticket.created", "EUR"),
        ("ticket.created", "USD"),
    ]


async def test_a_store_from_before_currencies_gets_them_as_usd(tmp_path) -> None:
    """A store file written before v1 (no currency columns): opened, its amounts are USD, and
    new events in another currency are kept apart from them."""
    path = str(tmp_path / "events.duckdb")
    old = DuckDBEventStore(path, derived=[ReportTables()])
    await old.start()
    usd_only = Sales().sale("2026-04-01 09:00:00", "2026-04-01 10:00:00", 1, "S1", "20.00", "")
    await usd_only.store_into(old)
    await old.close()
    with duckdb.connect(path) as raw:  # as the file was before v1
        for table, column in [
            ("events", "currency"),
            ("report_tickets", "listed_currency"),
            ("report_orders", "currency"),
        ]:
            raw.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

    store = DuckDBEventStore(path, derived=[ReportTables()])
    await store.start()
    eur = Sales(_ids=itertools.count(100))  # event ids of its own
    eur.sale("2026-04-01 09:00:00", "2026-04-01 11:00:00", 2, "S1", "30.00", "EUR")
    await eur.store_into(store)
    report = await DuckDBReports(store).seller_report("S1", APRIL)
    await store.close()

    assert report.totals.revenue_by_currency == money(("30.00", "EUR"), ("20.00", "USD"))
    assert report.totals.sold == 2
