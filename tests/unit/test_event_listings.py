"""Listings for catalogue events (issue 20): where the seats are, a quantity the seller edits,
sales that stop at the event's start or when it is called off, and unpaid orders that end with
it. Both service layers with fakes, joined as in production (tests/unit/test_market_holds.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from common.errors import Conflict, InvalidInput, NotFound
from svc_orders.domain.model import CancelReason, OrderStatus
from svc_orders.service_layer.called_off import EventCallOff
from svc_tickets.domain.listing import DeliveryMethod, ListingDetails
from svc_tickets.domain.model import TicketState
from svc_tickets.domain.split import SplitRule
from svc_tickets.service_layer.handlers import CreateTicket, UpdateTicket
from svc_tickets.service_layer.sales_windows import SalesWindowHandlers
from tests.unit.test_market_holds import SELLER, Market, delivery
from ticketing.events.v1 import catalogue_pb2
from ticketing.events.v1 import orders_pb2 as order_events

STARTS = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # the fake clock starts 2026-01-01


def stamp(at: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(at)
    return value


class Catalogue:
    """The catalogue's events as they reach the tickets service."""

    def __init__(self, market: Market) -> None:
        self.windows = SalesWindowHandlers(market.tickets.uow)
        self.versions: dict[str, int] = {}

    async def scheduled(self, event_id: str = "e1", starts: datetime = STARTS) -> str:
        self.versions[event_id] = 0
        event = catalogue_pb2.EventChanged(
            id=event_id, version=0, status="SCHEDULED", starts_at=stamp(starts)
        )
        await self.windows.on_event_changed(event, delivery(event))
        return event_id

    async def status(self, status: str, event_id: str = "e1", starts: datetime = STARTS):
        self.versions[event_id] += 1
        event = catalogue_pb2.EventStatusChanged(
            id=event_id, version=self.versions[event_id], status=status, starts_at=stamp(starts)
        )
        await self.windows.on_event_status_changed(event, delivery(event))
        return event


@pytest.fixture
def market() -> Market:
    return Market()


@pytest.fixture
def catalogue(market) -> Catalogue:
    return Catalogue(market)


async def listed(market, event_id="e1", quantity=4, rule=SplitRule.ANY, details=None) -> str:
    details = details or ListingDetails.of(quantity, "112", "F")
    ticket = await market.tickets.create_ticket(
        CreateTicket(SELLER, "", "40", "EUR", str(uuid.uuid4()), quantity, rule, event_id, details)
    )
    return ticket.id


async def test_a_listing_for_an_event_is_named_by_its_seats_and_sells_them(market, catalogue):
    await catalogue.scheduled()
    numbered = ListingDetails.of(
        2, "112", "F", ["14", "15"], "35", DeliveryMethod.MOBILE_TRANSFER, " Aisle "
    )
    listing = await listed(market, quantity=2, details=numbered)
    ticket = market.listing(listing)
    assert (ticket.title, ticket.event_id, ticket.details.notes) == (
        "Section 112, row F",
        "e1",
        "Aisle",
    )
    assert ticket.details.face_value == Decimal("35.00")
    order = await market.order(listing, quantity=1)
    assert order.seat_labels == ("14",) and order.event_id == "e1"
    # Who is paid the proceeds, and after which event: the order and its OrderCreated say.
    assert order.seller_id == SELLER
    placed = market.orders_store.published_of(order_events.OrderCreated)[-1]
    assert (placed.ticket.seller_id, placed.ticket.event_id) == (SELLER, "e1")


@pytest.mark.parametrize(
    ("given", "field"),
    [
        (dict(seat_labels=["1"]), "seats"),  # one label for two seats
        (dict(seat_labels=["1", "1"]), "seats"),
        (dict(seat_labels=["1", ""]), "seats"),
        (dict(notes="x" * 501), "notes"),
        (dict(face_value="-1"), "faceValue"),
        (dict(section="S" * 21), "section"),
    ],
)
def test_listing_details_are_checked_field_by_field(given, field):
    with pytest.raises(InvalidInput) as info:
        ListingDetails.of(2, **given)
    assert info.value.field == field


async def test_no_listing_for_an_event_unknown_here_or_not_on_sale(market, catalogue):
    with pytest.raises(NotFound) as info:
        await listed(market, event_id="unknown")
    assert info.value.field == "event_id"
    await catalogue.scheduled()
    await catalogue.status("POSTPONED")
    with pytest.raises(Conflict) as info:
        await listed(market)
    assert (info.value.field, info.value.message) == (
        "event_id",
        "Sales are paused: the event is postponed",
    )
    assert market.tickets_store.table("tickets") == {}


async def test_holds_stop_while_postponed_resume_when_rescheduled_and_end_at_the_start(
    market, catalogue
):
    await catalogue.scheduled()
    listing = await listed(market)
    await catalogue.status("POSTPONED")
    with pytest.raises(Conflict) as info:
        await market.order(listing)
    assert info.value.field == "event_id"
    assert market.shown_orders() == []  # refused: no order to show
    later = STARTS + timedelta(days=30)
    await catalogue.status("RESCHEDULED", starts=later)
    assert (await market.order(listing)).quantity == 1
    market.clock.advance((later - market.clock.now()).total_seconds())
    with pytest.raises(Conflict) as info:
        await market.order(listing, buyer="late")
    assert "has started" in info.value.message


async def test_an_older_event_state_arriving_late_changes_nothing(market, catalogue):
    await catalogue.scheduled()
    cancelled = await catalogue.status("CANCELLED")
    older = catalogue_pb2.EventStatusChanged(
        id="e1", version=cancelled.version - 1, status="SCHEDULED", starts_at=stamp(STARTS)
    )
    await catalogue.windows.on_event_status_changed(older, delivery(older))
    window = market.tickets_store.table("sales_windows")["e1"]
    assert (window.status, window.version) == ("CANCELLED", cancelled.version)


async def test_an_event_called_off_ends_its_unpaid_orders_and_frees_their_seats(market, catalogue):
    await catalogue.scheduled()
    listing = await listed(market)
    paid = await market.order(listing, buyer="b1")
    await market.pay(paid.id)
    unpaid = await market.order(listing, quantity=2, buyer="b2")
    other_event = await catalogue.scheduled("e2")
    elsewhere = await market.order(await listed(market, event_id=other_event), buyer="b3")
    called_off = await catalogue.status("CANCELLED")
    call_off = EventCallOff(market.orders.uow, market.clock)
    await call_off.on_event_status_changed(called_off, delivery(called_off))
    await call_off.on_event_status_changed(called_off, delivery(called_off))  # redelivered
    orders = market.orders_of()
    assert (orders[unpaid.id].status, orders[unpaid.id].cancel_reason) == (
        OrderStatus.CANCELLED,
        CancelReason.EVENT_CALLED_OFF,
    )
    assert orders[paid.id].status is OrderStatus.COMPLETE  # refunds are issue 21's
    assert orders[elsewhere.id].status is OrderStatus.CREATED
    await market.pump()
    ticket = market.listing(listing)
    assert [h.order_id for h in ticket.holds] == [paid.id]
    assert ticket.state is TicketState.FOR_SALE  # its seats, though no hold may be taken now


async def test_the_seller_edits_the_quantity_down_to_what_is_taken(market, catalogue):
    await catalogue.scheduled()
    listing = await listed(market, quantity=6, details=ListingDetails())
    await market.order(listing, quantity=2)
    version = market.listing(listing).version

    async def quantity(value: int, expected: int):
        return await market.tickets.update_ticket(
            UpdateTicket(SELLER, listing, None, None, expected, quantity=value)
        )

    with pytest.raises(InvalidInput):
        await quantity(0, version)
    with pytest.raises(Conflict) as info:
        await quantity(1, version)  # two are held
    assert (info.value.field, "cannot go below 2" in info.value.message) == ("quantity", True)
    grown = await quantity(8, version)
    assert (grown.quantity, grown.available) == (8, 6)
    shrunk = await quantity(2, grown.version)
    assert (shrunk.quantity, shrunk.available, shrunk.state) == (2, 0, TicketState.HELD)
    paired = await listed(market, quantity=2, rule=SplitRule.EVEN, details=ListingDetails())
    with pytest.raises(InvalidInput):  # odd under EVEN
        await market.tickets.update_ticket(UpdateTicket(SELLER, paired, None, None, 0, quantity=3))
    numbered = await listed(
        market, quantity=2, details=ListingDetails.of(2, seat_labels=["1", "2"])
    )
    with pytest.raises(InvalidInput) as info:
        await market.tickets.update_ticket(
            UpdateTicket(SELLER, numbered, None, None, 0, quantity=4)
        )
    assert info.value.field == "quantity"
