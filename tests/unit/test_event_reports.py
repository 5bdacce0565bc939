"""An event's report from a real DuckDB store: views of its page and of its listings, orders
placed and paid, seats sold and revenue per listing, and the funnel from the event's page to a
paid order (a visitor's anonymous views counting for the account they signed in to); only
operators may read it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from common.errors import Forbidden, InvalidInput
from svc_insights.adapters.duckdb_store import DuckDBEventStore
from svc_insights.adapters.event_reports import DuckDBEventReports
from svc_insights.domain.model import EventRow
from svc_insights.domain.reports import Amount, Reader
from svc_insights.service_layer.event_reports import EventReportHandlers, GetEventReport

DAY = date(2026, 5, 4)
AT = datetime(2026, 5, 4, 12)
OPERATOR = Reader("op", is_admin=True)


class Log:
    def __init__(self) -> None:
        self.rows: list[EventRow] = []

    def add(self, type_: str, at: datetime = AT, **columns) -> None:
        self.rows.append(EventRow(f"e{len(self.rows):04d}", type_, at, **columns))

    def listing(self, ticket_id: str, event_id: str, seller: str, seats: int) -> None:
        self.add(
            "ticket.created",
            AT - timedelta(days=3),
            user_id=seller,
            seller_id=seller,
            ticket_id=ticket_id,
            order_id="",
            price=Decimal("50.00"),
            currency="EUR",
            version=0,
            catalogue_event_id=event_id,
            quantity=seats,
        )

    def order(self, order_id, ticket_id, buyer, seats, price="50.00", at=AT, paid=True):
        self.add(
            "order.created",
            at,
            user_id=buyer,
            order_id=order_id,
            ticket_id=ticket_id,
            price=Decimal(price),
            currency="EUR",
            version=0,
            quantity=seats,
        )
        if paid:
            self.add("charge.created", at + timedelta(minutes=2), order_id=order_id)


@pytest.fixture
async def handlers() -> AsyncIterator[EventReportHandlers]:
    log = Log()
    log.listing("t-a", "ev-1", "s1", 4)
    log.listing("t-b", "ev-1", "s2", 2)
    log.listing("t-other", "ev-2", "s1", 2)
    # Four people view the event's page: ann signed in, bob anonymously (he signs in later the
    # same day), cem and a visitor who never signs in; the visitor views it twice.
    log.add("event.viewed", user_id="ann", anonymous_id="c-ann", catalogue_event_id="ev-1")
    log.add("event.viewed", anonymous_id="c-bob", catalogue_event_id="ev-1")
    log.add("event.viewed", user_id="cem", catalogue_event_id="ev-1")
    for _ in range(2):
        log.add("event.viewed", anonymous_id="c-anon", catalogue_event_id="ev-1")
    log.add("event.viewed", user_id="ann", catalogue_event_id="ev-2")  # another event
    # Listing views: ann and bob (anonymously) view t-a, cem t-b; someone views ev-2's listing.
    log.add("ticket.viewed", user_id="ann", ticket_id="t-a")
    log.add("ticket.viewed", anonymous_id="c-bob", ticket_id="t-a")
    log.add("ticket.viewed", user_id="cem", ticket_id="t-b")
    log.add("ticket.viewed", user_id="dan", ticket_id="t-other")
    log.add("tickets.browsed", user_id="bob", anonymous_id="c-bob", at=AT + timedelta(hours=1))
    # Orders: ann buys 2 seats of t-a, bob 1 of t-a; cem orders t-b and never pays.
    log.order("o-ann", "t-a", "ann", 2)
    log.order("o-bob", "t-a", "bob", 1, at=AT + timedelta(hours=2))
    log.order("o-cem", "t-b", "cem", 2, paid=False)
    # An order placed the day before, paid in the range; one on another event.
    log.order("o-old", "t-b", "eve", 1, price="40.00", at=AT - timedelta(days=1, minutes=1))
    log.rows[-1] = EventRow(
        log.rows[-1].event_id, "charge.created", datetime(2026, 5, 4, 0, 1), order_id="o-old"
    )
    log.order("o-other", "t-other", "dan", 2)
    # The day after: not in the range.
    log.add("event.viewed", user_id="fay", catalogue_event_id="ev-1", at=AT + timedelta(days=1))

    store = DuckDBEventStore(":memory:")
    store.open()
    await store.add_many(log.rows)
    try:
        yield EventReportHandlers(DuckDBEventReports(store))
    finally:
        await store.close()


async def test_an_events_report_counts_its_page_its_listings_and_their_orders(handlers):
    report = await handlers.event_report(GetEventReport(OPERATOR, "ev-1", DAY, DAY))

    assert (report.event_views, report.listing_views) == (5, 3)
    assert (report.orders_placed, report.orders_paid, report.seats_sold) == (3, 3, 4)
    assert report.revenue_by_currency == (Amount(Decimal("190.00"), "EUR"),)
    by_listing = {
        listing.ticket_id: (
            listing.seller_id,
            listing.views,
            listing.orders_placed,
            listing.orders_paid,
            listing.seats_sold,
            listing.revenue_by_currency,
        )
        for listing in report.listings
    }
    assert by_listing == {
        "t-a": ("s1", 2, 2, 2, 3, (Amount(Decimal("150.00"), "EUR"),)),
        "t-b": ("s2", 1, 1, 1, 1, (Amount(Decimal("40.00"), "EUR"),)),
    }
    assert [listing.ticket_id for listing in report.listings] == ["t-a", "t-b"]


async def test_the_funnel_follows_people_from_the_events_page_to_a_paid_order(handlers):
    report = await handlers.event_report(GetEventReport(OPERATOR, "ev-1", DAY, DAY))

    # Page: ann, bob (by his cookie, linked to his account), cem, the visitor. Listing: ann,
    # bob, cem. Ordered: ann, bob, cem (eve ordered the day before). Paid: ann and bob.
    funnel = report.funnel
    assert (funnel.viewed_event, funnel.viewed_listing, funnel.ordered, funnel.paid) == (4, 3, 3, 2)
    assert funnel.paid_per_viewed_event == 0.5


async def test_an_events_report_is_for_operators_and_a_valid_range(handlers):
    with pytest.raises(Forbidden):
        await handlers.event_report(GetEventReport(Reader("s1"), "ev-1", DAY, DAY))
    with pytest.raises(InvalidInput):
        await handlers.event_report(GetEventReport(OPERATOR, "ev-1", DAY, DAY - timedelta(1)))
    empty = await handlers.event_report(GetEventReport(OPERATOR, "ev-none", DAY, DAY))
    assert (empty.event_views, empty.listings, empty.funnel.viewed_event) == (0, (), 0)
