"""Delivery terms fixed when the seats are held (issue 22), through tickets' and orders' service
layers with fakes: HoldSeats answers the listing's method and deadline, orders keeps them on the
order and publishes them in OrderCreated; a later edit of the listing's deadline leaves held
seats' deadline alone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from common.errors import InvalidInput
from common.protos import from_timestamp
from svc_tickets.domain.listing import DeliveryMethod, ListingDetails
from svc_tickets.domain.sales_window import SalesWindow
from svc_tickets.service_layer.handlers import CreateTicket, UpdateTicket
from tests.unit.test_market_holds import SELLER, Market
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.tickets.v1 import tickets_pb2


@pytest.fixture
def market() -> Market:
    market = Market()
    starts = market.clock.now() + timedelta(days=10)
    market.tickets_store.table("sales_windows")["e1"] = SalesWindow("e1", starts, "SCHEDULED", 1)
    market.starts = starts  # type: ignore[attr-defined]
    return market


async def listed(market: Market, deliver_by=None, method=DeliveryMethod.BARCODE) -> str:
    details = ListingDetails.of(2, "A", "1", delivery_method=method, deliver_by=deliver_by)
    ticket = await market.tickets.create_ticket(
        CreateTicket(SELLER, "", "10", "USD", str(uuid.uuid4()), 2, event_id="e1", details=details)
    )
    return ticket.id


async def test_the_event_default_is_fixed_on_the_order_and_published(market: Market) -> None:
    order = await market.order(await listed(market), quantity=2)
    assert order.delivery_method == "BARCODE"
    assert order.deliver_by == market.starts - timedelta(hours=2)
    [created] = market.orders_store.published_of(order_events.OrderCreated)
    assert created.ticket.delivery_method == tickets_pb2.DELIVERY_METHOD_BARCODE
    assert from_timestamp(created.ticket.deliver_by) == order.deliver_by


async def test_the_listings_own_deadline_and_an_edit_after_a_hold(market: Market) -> None:
    own = market.starts - timedelta(days=1)
    listing = await listed(market, deliver_by=own)
    first = await market.order(listing, quantity=1)
    assert first.deliver_by == own
    later = market.starts - timedelta(days=2)
    await market.tickets.update_ticket(
        UpdateTicket(SELLER, listing, None, None, 1, deliver_by=later)
    )
    second = await market.order(listing, quantity=1, buyer="buyer-2")
    assert (first.deliver_by, second.deliver_by) == (own, later)
    held = market.listing(listing).hold_of(first.id)
    assert held.deliver_by == own  # the first hold kept its deadline


async def test_an_own_deadline_after_the_events_start_is_refused(market: Market) -> None:
    with pytest.raises(InvalidInput) as refused:
        await listed(market, deliver_by=market.starts + timedelta(hours=1))
    assert refused.value.field == "deliver_by"
    assert market.tickets_store.table("tickets") == {}
