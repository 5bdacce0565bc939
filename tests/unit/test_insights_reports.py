"""The reports replay a known stream of events and must match figures worked out by hand.

The stream covers 2026-03-01..04 (day 3 empty), with events just before and after the range and
on both edges of it. Who is who:
- sellers S1 (tickets T1, T2, and T6 listed after the range), S2 (T3, T4), S3 (T5);
- buyer B1 browses as anon-1 and signs in with it; B2 views as anon-2 before signing in on the
  same browser (stitched); B3 as anon-3; B4 orders through the API without viewing anything;
  B5 starts an order that is never placed;
- anon-9 and anon-8 never sign in.

The expected values below are counted from this stream by hand (the comments show the working),
never taken from the SQL's output.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal

import pytest

from common.errors import Forbidden, InvalidInput
from svc_insights.adapters.duckdb_store import DuckDBEventStore
from svc_insights.adapters.report_tables import TABLES, ReportTables
from svc_insights.adapters.reports import DuckDBReports, seller_report
from svc_insights.domain.model import EventRow
from svc_insights.domain.reports import (
    MAX_RANGE_DAYS,
    MAX_TOP_SELLERS,
    TOP_SELLERS,
    Amount,
    DayRange,
    Funnel,
    MarketDay,
    Outcomes,
    PriceBucket,
    Reader,
    SellerDay,
    SellerFigures,
    TicketViews,
    TopSeller,
    top_sellers_limit,
)
from tests.support.insights_events import EventStream

MARCH = DayRange.of(date(2026, 3, 1), date(2026, 3, 4))
D1, D2, D3, D4 = MARCH.days()


def usd(amount: str) -> tuple[Amount, ...]:
    """One amount in USD: what every event of market_stream() is in (they name no currency, as
    before v1)."""
    return (Amount(Decimal(amount), "USD"),)


def market_stream() -> EventStream:
    s = EventStream()
    # Before the range: counted nowhere, except T1's listing time for its time to sell.
    s.ticket_created("2026-02-28 10:00:00", "T1", "S1", "20.00", "Arctic Monkeys, row F")
    s.viewed("2026-02-28 11:00:00", "T1", anonymous="anon-9")
    # Day 1.
    s.browsed("2026-03-01 00:00:00", anonymous="anon-8")  # the range's first instant
    s.ticket_created("2026-03-01 09:00:00", "T2", "S1", "60.00", "Arctic Monkeys, row G")
    s.ticket_updated("2026-03-01 09:10:00", "T2", "S1", "60.00", "Arctic Monkeys, row H", 1)
    s.ticket_created("2026-03-01 09:30:00", "T3", "S2", "150.00", "Cup final")
    s.user_created("2026-03-01 09:45:00", "B3")
    s.viewed("2026-03-01 10:00:00", "T1", anonymous="anon-2")  # B2 before signing in
    s.viewed("2026-03-01 10:05:00", "T1", anonymous="anon-9")
    s.viewed("2026-03-01 10:10:00", "T2", user="B1", anonymous="anon-1")
    s.viewed("2026-03-01 10:15:00", "T1", user="S1", anonymous="anon-s1")  # the seller's own
    s.browsed("2026-03-01 10:20:00", anonymous="anon-9")
    s.order_started("2026-03-01 10:30:00", "T1", "B1", "anon-1")
    s.order_created("2026-03-01 10:30:01", "O1", "T1", "B1", "20.00")
    s.ticket_updated("2026-03-01 10:30:02", "T1", "S1", "20.00", "Arctic Monkeys, row F", 1, "O1")
    s.charge_created("2026-03-01 10:35:00", "O1", "20.00")
    # Day 2.
    s.viewed("2026-03-02 08:00:00", "T2", anonymous="anon-2")
    s.viewed("2026-03-02 08:05:00", "T2", user="B2", anonymous="anon-2")  # stitches anon-2
    s.order_started("2026-03-02 08:10:00", "T2", "B2", "anon-2")
    s.order_created("2026-03-02 08:10:01", "O2", "T2", "B2", "60.00")
    s.order_expired("2026-03-02 08:25:01", "O2")
    s.order_cancelled("2026-03-02 08:25:02", "O2", "T2", "EXPIRED")
    s.viewed("2026-03-02 09:00:00", "T3", user="B3", anonymous="anon-3")
    s.order_started("2026-03-02 09:01:00", "T3", "B3", "anon-3")
    s.order_created("2026-03-02 09:01:01", "O3", "T3", "B3", "150.00")
    # B5 tries to order T3 while O3 holds it (order.started, no order), and looks again.
    s.viewed("2026-03-02 09:01:30", "T3", user="B5", anonymous="anon-5")
    s.order_started("2026-03-02 09:01:40", "T3", "B5", "anon-5")
    s.viewed("2026-03-02 09:01:50", "T3", user="B5", anonymous="anon-5")
    s.charge_failed("2026-03-02 09:02:00", "O3")
    s.order_cancelled("2026-03-02 09:02:01", "O3", "T3", "PAYMENT_FAILED")
    s.order_created("2026-03-02 09:05:00", "O4", "T3", "B3", "150.00")
    s.charge_created("2026-03-02 09:06:00", "O4", "150.00")
    s.ticket_created("2026-03-02 12:00:00", "T4", "S2", "10.00", "Jazz night")
    s.order_created("2026-03-02 12:30:00", "O10", "T4", "B1", "10.00")
    s.charge_failed("2026-03-02 12:31:00", "O10")
    s.order_cancelled("2026-03-02 12:31:01", "O10", "T4", "PAYMENT_FAILED")
    s.ticket_created("2026-03-02 13:00:00", "T5", "S3", "1000.00", "Final, box")
    # Day 3: nothing. Day 4. S1's browser, signed out (B2 signs in on it after the range).
    s.browsed("2026-03-04 09:00:00", anonymous="anon-s1")
    s.viewed("2026-03-04 10:00:00", "T2", anonymous="anon-9")
    s.order_started("2026-03-04 11:00:00", "T2", "B1", "anon-1")
    s.order_created("2026-03-04 11:00:01", "O5", "T2", "B1", "60.00")
    s.charge_pending("2026-03-04 11:00:30", "O5", "60.00")
    s.charge_created("2026-03-04 11:02:00", "O5", "60.00")
    s.viewed("2026-03-04 12:00:00", "T4", user="B3")
    s.order_created("2026-03-04 12:30:00", "O6", "T4", "B2", "10.00")  # still open
    s.order_created("2026-03-04 13:00:00", "O7", "T5", "B1", "1000.00")
    s.order_cancelled("2026-03-04 13:05:00", "O7", "T5", "CANCELLED_BY_USER")
    s.order_created("2026-03-04 14:00:00", "O9", "T5", "B4", "1000.00")  # never viewed
    s.charge_created("2026-03-04 14:01:00", "O9", "1000.00")
    # A stray second charge.created for O4 (payments never sends one): O4 was paid on day 2.
    s.charge_created("2026-03-04 15:00:00", "O4", "150.00")
    s.viewed("2026-03-04 23:59:59.999999", "T3", anonymous="anon-9")  # the range's last instant
    # After the range.
    s.ticket_created("2026-03-05 00:00:00", "T6", "S1", "30.00")
    s.charge_created("2026-03-05 00:00:01", "O6", "10.00")
    s.viewed("2026-03-05 01:00:00", "T1", user="B1")
    s.viewed("2026-03-05 02:00:00", "T1", user="B2", anonymous="anon-s1")
    return s


@pytest.fixture(scope="module")
async def reports() -> AsyncIterator[DuckDBReports]:
    store = DuckDBEventStore(":memory:", derived=[ReportTables()])
    await store.start()
    await market_stream().store_into(store)
    yield DuckDBReports(store)
    await store.close()


async def test_seller_report_of_the_first_seller(reports: DuckDBReports) -> None:
    report = await reports.seller_report("S1", MARCH)

    # T1 sold (O1): 2026-02-28 10:00:00 -> 03-01 10:35:00 = 24 h 35 min = 88,500 s.
    # T2 sold (O5): 2026-03-01 09:00:00 -> 03-04 11:02:00 = 3 d 2 h 2 min = 266,520 s.
    assert report.days == (
        # listed T2; sold O1 at 20.00; views of T1 by anon-2, anon-9, of T2 by B1 (not S1's own)
        SellerDay(D1, SellerFigures(1, 1, 0, Decimal("20.00"), 88_500.0, 3, usd("20.00"))),
        # O2 expired unpaid; views of T2 by anon-2 and by B2
        SellerDay(D2, SellerFigures(0, 0, 1, Decimal("0.00"), None, 2)),
        SellerDay(D3, SellerFigures(0, 0, 0, Decimal("0.00"), None, 0)),
        # sold O5 at 60.00; a view of T2 by anon-9
        SellerDay(D4, SellerFigures(0, 1, 0, Decimal("60.00"), 266_520.0, 1, usd("60.00"))),
    )
    # The median of the range's two sales: (88,500 + 266,520) / 2, not a median of the days'.
    assert report.totals == SellerFigures(1, 2, 1, Decimal("80.00"), 177_510.0, 6, usd("80.00"))
    # T6 was listed after the range; the view of T1 before it and after it are not counted.
    assert report.tickets == (
        TicketViews("T2", "Arctic Monkeys, row H", 4),
        TicketViews("T1", "Arctic Monkeys, row F", 2),
    )


async def test_seller_report_of_the_second_seller(reports: DuckDBReports) -> None:
    report = await reports.seller_report("S2", MARCH)

    # T3 sold (O4): 2026-03-01 09:30:00 -> 03-02 09:06:00 = 23 h 36 min = 84,960 s.
    assert report.days == (
        SellerDay(D1, SellerFigures(listed=1)),
        # listed T4; O3's payment failed (not expired), O4 sold at 150.00; B3 viewed T3 once,
        # B5 twice
        SellerDay(D2, SellerFigures(1, 1, 0, Decimal("150.00"), 84_960.0, 3, usd("150.00"))),
        SellerDay(D3, SellerFigures()),
        # B3 viewed T4, anon-9 viewed T3 at 23:59:59.999999; O6 is still open
        SellerDay(D4, SellerFigures(views=2)),
    )
    assert report.totals == SellerFigures(2, 1, 0, Decimal("150.00"), 84_960.0, 5, usd("150.00"))
    assert report.tickets == (TicketViews("T3", "Cup final", 4), TicketViews("T4", "Jazz night", 1))


async def test_an_order_cancelled_by_the_buyer_is_not_expired(reports: DuckDBReports) -> None:
    report = await reports.seller_report("S3", MARCH)

    # T5 listed on day 2; O7 cancelled by B1, then O9 paid: 03-02 13:00 -> 03-04 14:01 = 176,460 s.
    thousand = usd("1000.00")
    assert report.totals == SellerFigures(1, 1, 0, Decimal("1000.00"), 176_460.0, 0, thousand)
    assert report.days[3] == SellerDay(
        D4, SellerFigures(0, 1, 0, Decimal("1000.00"), 176_460.0, 0, thousand)
    )


async def test_a_seller_sees_nothing_of_anyone_else(reports: DuckDBReports) -> None:
    report = await reports.seller_report("B1", MARCH)

    assert report.days == tuple(SellerDay(day, SellerFigures()) for day in MARCH.days())
    assert report.totals == SellerFigures()
    assert report.tickets == ()


async def test_market_report_by_day(reports: DuckDBReports) -> None:
    report = await reports.market_report(MARCH, TOP_SELLERS)

    assert report.days == (
        # orders O1; paid O1 (20.00). Active: anon-8, S1 (listed, viewed), S2 (listed), B3
        # (signed up), B2 (as anon-2, stitched), anon-9, B1: 7, of them anon-8 and anon-9
        # never signed in.
        MarketDay(D1, Decimal("20.00"), 1, 1, 7, 2, usd("20.00")),
        # orders O2, O3, O4, O10; paid O4 (150.00). Active: B1 (O10), B2, B3, B5, S2 and S3
        # (listed).
        MarketDay(D2, Decimal("150.00"), 4, 1, 6, 0, usd("150.00")),
        MarketDay(D3),
        # orders O5, O6, O7, O9; paid O5 (60.00) and O9 (1000.00); O6 is paid after the range.
        # Active: anon-9, B1, B3, B2, B4, and S1 (anon-s1 signed out: S1 signed in with it
        # first, B2 only later).
        MarketDay(D4, Decimal("1060.00"), 4, 2, 6, 1, usd("1060.00")),
    )
    # Active over the range, each visitor once: anon-8, anon-9, S1, S2, S3, B1, B2, B3, B4, B5.
    # O4's stray second charge on day 4 is neither a second sale nor a move of the first.
    assert report.totals == MarketDay(D1, Decimal("1230.00"), 9, 4, 10, 2, usd("1230.00"))


async def test_market_funnel_outcomes_sellers_and_prices(reports: DuckDBReports) -> None:
    report = await reports.market_report(MARCH, TOP_SELLERS)

    # Viewed: B2 (anon-2 stitched), anon-9, B1, S1, B3, B5. Of them ordered: B1, B2, B3, B5
    # (started; B4 ordered without viewing). Of them paid: B1 (O1, O5) and B3 (O4); B2's O2
    # expired.
    assert report.funnel == Funnel(viewed=6, ordered=4, paid=2)
    assert (report.funnel.ordered_per_viewed, report.funnel.paid_per_ordered) == (4 / 6, 2 / 4)
    assert report.funnel.paid_per_viewed == 2 / 6
    # Ended in the range: paid O1, O4, O5, O9; cancelled O2 (expired), O3 and O10 (payment
    # failed), O7 (by the buyer). O6 is open.
    assert report.expired == Outcomes(count=1, of=8)
    assert report.expired.rate == 1 / 8
    # Two charge.failed (O3, O10) of six attempts that ended (they and four paid); O5's
    # charge.pending is the same attempt as its charge.created.
    assert report.declined == Outcomes(count=2, of=6)
    assert report.declined.rate == 2 / 6
    # By tickets sold (S1: O1 and O5), then revenue.
    assert report.top_sellers == (
        TopSeller("S1", Decimal("80.00"), 2, usd("80.00")),
        TopSeller("S3", Decimal("1000.00"), 1, usd("1000.00")),
        TopSeller("S2", Decimal("150.00"), 1, usd("150.00")),
    )
    # Listed in the range: T2 60, T3 150, T4 10 (a bucket's lower bound is in it), T5 1000.
    # Paid in the range: O1 20, O4 150, O5 60, O9 1000. All in USD: its buckets only.
    assert report.price_distribution == (
        PriceBucket(Decimal(0), Decimal(10), listed=0, sold=0),
        PriceBucket(Decimal(10), Decimal(25), listed=1, sold=1),
        PriceBucket(Decimal(25), Decimal(50), listed=0, sold=0),
        PriceBucket(Decimal(50), Decimal(100), listed=1, sold=1),
        PriceBucket(Decimal(100), Decimal(250), listed=1, sold=1),
        PriceBucket(Decimal(250), Decimal(500), listed=0, sold=0),
        PriceBucket(Decimal(500), Decimal(1000), listed=0, sold=0),
        PriceBucket(Decimal(1000), None, listed=1, sold=1),
    )


async def test_one_day_of_the_range(reports: DuckDBReports) -> None:
    report = await reports.market_report(DayRange.of(D2, D2), TOP_SELLERS)

    assert report.days == (MarketDay(D2, Decimal("150.00"), 4, 1, 6, 0, usd("150.00")),)
    # Viewed on day 2: B2 (twice, once as anon-2), B3 and B5; all ordered, B3 paid (O4).
    assert report.funnel == Funnel(viewed=3, ordered=3, paid=1)
    assert report.expired == Outcomes(count=1, of=4)  # O2 of O2, O3, O4, O10
    assert report.declined == Outcomes(count=2, of=3)  # O3's and O10's, of them and O4's


async def test_an_empty_store_reports_zeros_and_no_rates() -> None:
    store = DuckDBEventStore(":memory:", derived=[ReportTables()])
    await store.start()
    report = await DuckDBReports(store).market_report(MARCH, TOP_SELLERS)
    await store.close()

    assert report.days == tuple(MarketDay(day) for day in MARCH.days())
    assert report.funnel == Funnel(0, 0, 0)
    assert report.funnel.ordered_per_viewed is None
    assert report.expired.rate is None and report.declined.rate is None
    assert report.top_sellers == ()
    assert all(b.listed == b.sold == 0 for b in report.price_distribution)
    assert {b.currency for b in report.price_distribution} == {"USD"}


def test_a_range_is_at_least_a_day_and_at_most_a_year() -> None:
    assert DayRange.of(D1, D1).days() == [D1]
    longest = DayRange.of(date(2024, 1, 1), date(2024, 12, 31))  # a leap year: 366 days
    assert len(longest.days()) == MAX_RANGE_DAYS
    with pytest.raises(InvalidInput) as too_long:
        DayRange.of(date(2024, 1, 1), date(2025, 1, 1))
    assert too_long.value.field == "to"
    with pytest.raises(InvalidInput, match="before"):
        DayRange.of(D2, D1)


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (date(9999, 12, 30), date(9999, 12, 31), "to"),  # INTERNAL (a date overflow) before
        (date(9999, 12, 31), date(9999, 12, 31), "from"),
    ],
)
def test_a_range_past_the_last_day_is_the_callers_mistake_naming_the_days(
    first: date, last: date, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        DayRange.of(first, last)
    assert refused.value.field == field
    assert "between 0001-01-01 and 9999-12-30" in refused.value.message


async def test_the_first_and_last_days_a_report_accepts(reports: DuckDBReports) -> None:
    for first, last in [(date.min, date(1, 1, 2)), (date(9999, 12, 29), date(9999, 12, 30))]:
        report = await reports.market_report(DayRange.of(first, last), TOP_SELLERS)
        assert [d.day for d in report.days] == [first, last]
        assert report.totals.orders == 0 and report.top_sellers == ()
        sellers = await reports.seller_report("S1", DayRange.of(first, last))
        assert sellers.totals == SellerFigures()


async def test_as_many_top_sellers_as_asked(reports: DuckDBReports) -> None:
    report = await reports.market_report(MARCH, top_sellers_limit(2))

    assert [s.seller_id for s in report.top_sellers] == ["S1", "S3"]
    assert top_sellers_limit(0) == TOP_SELLERS
    with pytest.raises(InvalidInput) as too_many:
        top_sellers_limit(MAX_TOP_SELLERS + 1)
    assert too_many.value.field == "top_sellers_limit"


def test_a_seller_reads_their_own_report_and_an_operator_any() -> None:
    seller, operator = Reader("S1"), Reader("ops", is_admin=True)

    seller.check_may_read_seller("S1")
    operator.check_may_read_seller("S1")
    operator.check_may_read_market()
    with pytest.raises(Forbidden):
        seller.check_may_read_seller("S2")
    with pytest.raises(Forbidden):
        seller.check_may_read_market()


async def derived_tables(store: DuckDBEventStore) -> dict[str, list[tuple]]:
    def read(cursor) -> dict[str, list[tuple]]:
        return {
            table: cursor.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in TABLES
        }

    return await store.read(read)


async def test_the_tables_kept_in_step_agree_with_a_rebuild_from_every_event() -> None:
    store = DuckDBEventStore(":memory:", derived=[ReportTables()])
    await store.start()
    await market_stream().store_into(store)
    kept = await derived_tables(store)

    ReportTables().rebuild(store.connection)

    assert await derived_tables(store) == kept
    assert len(kept["report_orders"]) == 9  # O1..O7, O9, O10
    await store.close()


def shuffled_twice() -> list[int]:
    """Every event delivered twice, in a random order (a charge before its order, an update
    before its listing...)."""
    order = list(range(len(market_stream().events))) * 2
    random.Random(11).shuffle(order)
    return order


@pytest.mark.parametrize(
    ("order", "batch"),
    [
        # Last first, one at a time: each later fact (a later sign-in on a browser, a later
        # charge) is kept before the earlier one that must win over it.
        (list(reversed(range(len(market_stream().events)))), 1),
        (shuffled_twice(), 6),
    ],
    ids=["reversed", "shuffled-twice"],
)
async def test_events_in_any_order_and_delivered_twice_give_the_same_reports(
    reports: DuckDBReports, order: list[int], batch: int
) -> None:
    store = DuckDBEventStore(":memory:", derived=[ReportTables()])
    await store.start()
    await market_stream().store_in_batches(store, order, size=batch)
    replayed = DuckDBReports(store)

    for seller in ("S1", "S2", "S3"):
        assert await replayed.seller_report(seller, MARCH) == await reports.seller_report(
            seller, MARCH
        )
    assert await replayed.market_report(MARCH, TOP_SELLERS) == await reports.market_report(
        MARCH, TOP_SELLERS
    )
    await store.close()


async def test_a_store_that_kept_events_before_the_report_tables_gets_them_on_opening(
    tmp_path, reports: DuckDBReports
) -> None:
    path = str(tmp_path / "events.duckdb")
    before = DuckDBEventStore(path)  # no report tables yet, as before this version
    await before.start()
    await market_stream().store_into(before)
    await before.close()

    store = DuckDBEventStore(path, derived=[ReportTables()])
    await store.start()
    reopened = DuckDBReports(store)

    assert await reopened.seller_report("S1", MARCH) == await reports.seller_report("S1", MARCH)
    assert await reopened.market_report(MARCH, TOP_SELLERS) == await reports.market_report(
        MARCH, TOP_SELLERS
    )
    await store.close()


class CommitsAfterFirstStatement:
    """A reader's cursor, but the writer commits one more view of T2 right after the report's
    first statement: the report's later statements must not see it."""

    def __init__(self, cursor, store: DuckDBEventStore) -> None:
        self.cursor, self.store, self.statements = cursor, store, 0

    def begin(self) -> None:
        self.cursor.begin()

    def rollback(self) -> None:
        self.cursor.rollback()

    def execute(self, sql, params):
        result = self.cursor.execute(sql, params)
        self.statements += 1
        if self.statements == 1:
            late = EventRow(
                "late", "ticket.viewed", datetime(2026, 3, 2, 10), anonymous_id="a", ticket_id="T2"
            )
            assert self.store._insert([late]) == {"late"}
        return result


async def test_a_report_reads_one_snapshot_while_events_are_committed() -> None:
    store = DuckDBEventStore(":memory:", derived=[ReportTables()])
    await store.start()
    await market_stream().store_into(store)

    report = await store.read(
        lambda cursor: seller_report(CommitsAfterFirstStatement(cursor, store), "S1", MARCH)
    )

    assert report.totals.views == 6
    assert [t.views for t in report.tickets] == [4, 2]  # not 5 for T2: committed after it began
    assert (await DuckDBReports(store).seller_report("S1", MARCH)).totals.views == 7
    await store.close()
