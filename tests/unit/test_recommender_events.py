"""What the recommender reads from the `events` rows: which tickets are for sale, whose they are,
and who did what with them, whatever order the rows arrive in."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from svc_insights.domain.model import EventRow
from svc_insights.domain.recommender.marketplace import Kind, Marketplace

T0 = datetime(2026, 3, 1, 12, 0)
_ids = itertools.count()


def row(type_: str, minute: int, **columns) -> EventRow:
    return EventRow(f"e{next(_ids)}", type_, T0 + timedelta(minutes=minute), **columns)


def ticket(type_: str, minute: int, version: int, order_id: str = "", **extra) -> EventRow:
    columns = dict(
        user_id="seller",
        seller_id="seller",
        ticket_id="t1",
        title="Band — Hall, City",
        price=Decimal("40.00"),
        version=version,
        order_id=order_id,
    )
    return row(type_, minute, **{**columns, **extra})


LISTED = ticket("ticket.created", 0, 0)
ORDERED = row("order.created", 2, user_id="buyer", ticket_id="t1", order_id="o1", version=0)
HELD = ticket("ticket.updated", 2, 1, order_id="o1")
RELEASED = ticket("ticket.updated", 17, 2)
PAID = row("charge.created", 3, order_id="o1", detail="ch_1")


def test_a_ticket_is_for_sale_until_an_order_holds_it_and_again_once_released():
    assert Marketplace.of([LISTED]).listings["t1"].for_sale
    assert not Marketplace.of([LISTED, ORDERED, HELD]).listings["t1"].for_sale
    assert Marketplace.of([LISTED, ORDERED, HELD, RELEASED]).listings["t1"].for_sale


def test_a_paid_order_sells_the_ticket_whatever_order_the_rows_come_in():
    for rows in ([LISTED, ORDERED, HELD, PAID], [PAID, HELD, LISTED, ORDERED]):
        market = Marketplace.of(rows)
        assert not market.listings["t1"].for_sale
        assert market.sold() == {"t1"}


def test_the_highest_version_of_a_ticket_wins():
    market = Marketplace.of([LISTED, RELEASED, HELD])  # version 2 arrived before version 1
    listing = market.listings["t1"]
    assert listing.for_sale and listing.version == 2
    assert listing.seller_id == "seller" and listing.title == "Band — Hall, City"
    assert listing.price == 40.0 and listing.listed_at == T0


def test_what_a_visitor_did_before_signing_up_counts_for_the_account():
    rows = [
        LISTED,
        row("ticket.viewed", 1, anonymous_id="cookie-1", ticket_id="t1"),
        row("order.started", 2, user_id="buyer", anonymous_id="cookie-1", ticket_id="t1"),
        ORDERED,
        HELD,
        PAID,
        row("ticket.viewed", 4, anonymous_id="cookie-2", ticket_id="t1"),
    ]

    done = {(i.actor, i.kind) for i in Marketplace.of(rows).interactions()}

    assert done == {
        ("u:buyer", Kind.VIEWED),
        ("u:buyer", Kind.ORDER_STARTED),
        ("u:buyer", Kind.ORDERED),
        ("u:buyer", Kind.PURCHASED),
        ("a:cookie-2", Kind.VIEWED),
    }
