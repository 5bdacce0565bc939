"""Orders of several seats with one inventory authority (issue 20; docs/design/marketplace.md,
decision 2), through both service layers with fakes: orders places an order, the tickets
service (the listing's owner) decides which seats it holds, and the order events orders
publishes release or sell them there. Nothing else stores who holds what."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from common.bus import Delivery
from common.clock import FrozenClock
from common.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from svc_orders.service_layer.expiry import OrderExpiry
from svc_orders.service_layer.handlers import CancelOrder, CreateOrder, OrderHandlers
from svc_tickets.domain.model import OrderEnded, TicketState
from svc_tickets.domain.split import SplitRule
from svc_tickets.service_layer.handlers import (
    CreateTicket,
    HoldSeats,
    TicketHandlers,
    UpdateTicket,
    WithdrawTicket,
)
from tests.unit.fakes_market import FakeStore, InProcessSeatHolder, uow_factory
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.events.v1 import payments_pb2
from ticketing.events.v1 import tickets_pb2 as ticket_events
from ticketing.orders.v1 import orders_pb2

SELLER, BUYER = "seller-1", "buyer-1"


def delivery(event) -> Delivery:
    return Delivery(str(uuid.uuid4()), event.DESCRIPTOR.full_name, "", 1, "test")


class Market:
    """The tickets and orders services' handlers, each over its own store, joined as in
    production: HoldSeats called in process, order events delivered by `pump`."""

    def __init__(self) -> None:
        self.clock = FrozenClock()
        self.tickets_store, self.orders_store = FakeStore(), FakeStore()
        ids = (f"t{i}" for i in itertools.count(1))
        self.tickets = TicketHandlers(
            uow=uow_factory(self.tickets_store, "tickets"),  # type: ignore[arg-type]
            clock=self.clock,
            new_id=lambda: next(ids),
        )
        self.seats = InProcessSeatHolder(self.tickets)
        self.orders = OrderHandlers(
            uow=uow_factory(self.orders_store, "orders"),  # type: ignore[arg-type]
            clock=self.clock,
            hold_for=timedelta(minutes=15),
            tickets=self.seats,
        )
        self.pumped = 0

    async def list(self, quantity=1, rule=SplitRule.ANY, price="10", currency="USD") -> str:
        ticket = await self.tickets.create_ticket(
            CreateTicket(SELLER, "Concert", price, currency, str(uuid.uuid4()), quantity, rule)
        )
        return ticket.id

    async def order(self, ticket_id: str, quantity: int = 1, buyer=BUYER, key=None):
        key = key or str(uuid.uuid4())
        placed = await self.orders.create_order(CreateOrder(buyer, ticket_id, key, quantity))
        return placed.order

    def listing(self, ticket_id: str):
        return self.tickets_store.table("tickets")[ticket_id]

    def orders_of(self) -> dict:
        return self.orders_store.table("orders")

    def shown_orders(self) -> list:
        """The orders a buyer can see: placed ones (a pending one is shown to no one)."""
        return [o for o in self.orders_of().values() if not o.pending]

    async def pump(self) -> None:
        """Delivers the order events orders published since the last pump to tickets."""
        published = self.orders_store.published[self.pumped :]
        self.pumped = len(self.orders_store.published)
        for event in published:
            if isinstance(event, order_events.OrderCancelled):
                await self.tickets.on_order_cancelled(event, delivery(event))
            elif isinstance(event, order_events.OrderUpdated):
                await self.tickets.on_order_updated(event, delivery(event))

    async def pay(self, order_id: str) -> None:
        paid = payments_pb2.ChargeCreated(id="p", order_id=order_id, stripe_id="pi", amount=1)
        await self.orders.event_handlers[payments_pb2.ChargeCreated](paid, delivery(paid))


@pytest.fixture
def market() -> Market:
    return Market()


async def test_an_order_of_two_seats_holds_them_at_the_listings_price(market):
    listing = await market.list(quantity=4, price="25.50")
    order = await market.order(listing, quantity=2)
    assert (order.quantity, order.seats, order.price, order.total) == (
        2,
        (0, 1),
        Decimal("25.50"),
        Decimal("51.00"),
    )
    assert not order.pending
    ticket = market.listing(listing)
    assert (ticket.available, ticket.state, ticket.version) == (2, TicketState.FOR_SALE, 1)
    [created] = market.orders_store.published_of(order_events.OrderCreated)
    assert (created.id, created.ticket.quantity, created.ticket.price) == (order.id, 2, "25.50")
    [updated] = market.tickets_store.published_of(ticket_events.TicketUpdated)
    assert (updated.available, updated.quantity, updated.order_id) == (2, 4, "")
    # The next order gets the next seats.
    assert (await market.order(listing, quantity=2, buyer="buyer-2")).seats == (2, 3)
    assert market.listing(listing).state is TicketState.HELD


@pytest.mark.parametrize(
    ("rule", "listed", "asked", "message"),
    [
        (SplitRule.NO_SINGLE, 4, 3, "would leave a single ticket"),
        (SplitRule.EVEN, 4, 1, "sold in pairs"),
        (SplitRule.ALL, 4, 2, "all 4 at once"),
        (SplitRule.ANY, 2, 3, "3 tickets asked, only 2 are for sale"),
    ],
)
async def test_a_quantity_the_split_rule_refuses_leaves_no_order_and_frees_the_key(
    market, rule, listed, asked, message
):
    listing = await market.list(quantity=listed, rule=rule)
    before = market.listing(listing).version  # the sentinel: the listing is not written
    with pytest.raises(Conflict) as info:
        await market.order(listing, quantity=asked, key="k1")
    assert info.value.field == "quantity" and message in info.value.message
    assert market.shown_orders() == []
    # Ended unplaced: only tickets hears of it (payments and expiration never heard of it).
    assert [(e.reason, e.never_placed) for e in market.orders_store.published] == [
        ("SEATS_REFUSED", True)
    ]
    assert market.listing(listing).version == before
    # The key was not spent on the refusal: the buyer asks again with it, for what is allowed.
    allowed = listed if rule is SplitRule.ALL else 2
    assert (await market.order(listing, quantity=allowed, key="k1")).quantity == allowed


async def test_the_sellers_own_listing_and_an_unknown_one_are_refused_and_leave_nothing(market):
    listing = await market.list()
    with pytest.raises(Forbidden):
        await market.order(listing, buyer=SELLER)
    with pytest.raises(NotFound) as info:
        await market.order("no-such-listing")
    assert info.value.field == "ticketId"
    with pytest.raises(InvalidInput) as info:
        await market.order(listing, quantity=0)
    assert info.value.field == "quantity"
    assert market.shown_orders() == [] and market.seats.asked[-1][0] == "no-such-listing"


async def test_a_held_one_seat_ticket_is_already_reserved(market):
    listing = await market.list()
    await market.order(listing)
    with pytest.raises(Conflict) as info:
        await market.order(listing, buyer="buyer-2")
    assert "already reserved" in info.value.message
    assert len(market.shown_orders()) == 1


async def test_a_refused_order_takes_no_seat_later(market):
    """A request with the same key still on its way to tickets when the first was refused
    (seats freed meanwhile) must not leave seats held by an order that will never be placed:
    the refused order's OrderCancelled makes tickets refuse it."""
    listing = await market.list(quantity=2)
    with pytest.raises(Conflict):
        await market.order(listing, quantity=3, key="k1")
    [refused] = market.orders_of().values()
    await market.pump()
    with pytest.raises(OrderEnded):
        await market.tickets.hold_seats(HoldSeats(listing, 1, refused.id, BUYER))
    assert market.listing(listing).available == 2


async def test_the_same_key_asked_again_answers_the_same_order_and_seats(market):
    listing = await market.list(quantity=3)
    first = await market.order(listing, quantity=2, key="k1")
    again = await market.order(listing, quantity=2, key="k1")
    assert (again.id, again.seats) == (first.id, first.seats)
    assert market.listing(listing).available == 1  # held once
    assert len(market.orders_store.published_of(order_events.OrderCreated)) == 1


async def test_tickets_unreachable_leaves_a_pending_order_no_one_sees_until_a_retry_places_it(
    market,
):
    listing = await market.list(quantity=2)
    market.seats.reachable = False
    with pytest.raises(Unavailable):
        await market.order(listing, key="k1")
    [pending] = market.orders_of().values()
    assert pending.pending
    with pytest.raises(NotFound):
        await market.orders.get_order(BUYER, pending.id)
    assert market.orders_store.published == []  # no OrderCreated: expiration never heard of it
    market.seats.reachable = True
    placed = await market.order(listing, key="k1")
    assert (placed.id, placed.pending, placed.seats) == (pending.id, False, (0,))
    assert (await market.orders.get_order(BUYER, pending.id)).seats == (0,)


async def test_a_pending_order_the_sweep_ends_releases_what_it_held_and_takes_nothing_later(
    market,
):
    """Orders stopped between the hold and the placing: the sweep expires the order; its
    OrderCancelled (never placed) releases the seats, and a late HoldSeats is refused."""
    listing = await market.list(quantity=2)
    order = await market.orders._open(CreateOrder(BUYER, listing, "k1", 1), "fp")
    await market.tickets.hold_seats(HoldSeats(listing, 1, order.id, BUYER))
    assert market.listing(listing).available == 1
    market.clock.advance(20 * 60)
    expiry = OrderExpiry(market.orders.uow, market.clock, grace=timedelta(seconds=1))
    assert await expiry.expire(order.id)
    [cancelled] = market.orders_store.published_of(order_events.OrderCancelled)
    assert cancelled.never_placed
    await market.pump()
    assert market.listing(listing).available == 2
    with pytest.raises(OrderEnded):
        await market.tickets.hold_seats(HoldSeats(listing, 1, order.id, BUYER))
    assert market.listing(listing).available == 2


async def test_a_retry_after_the_sweep_ended_the_first_attempt_places_a_new_order(market):
    """Tickets unreachable: the first attempt stays pending, and the sweep ends it when it is
    due. The buyer's retry with the same key is their next attempt, not that dead order."""
    listing = await market.list()
    market.seats.reachable = False
    with pytest.raises(Unavailable):
        await market.order(listing, key="k1")
    [first] = market.orders_of().values()
    market.clock.advance(20 * 60)
    expiry = OrderExpiry(market.orders.uow, market.clock, grace=timedelta(seconds=1))
    assert await expiry.expire(first.id)
    await market.pump()
    market.seats.reachable = True
    placed = await market.order(listing, key="k1")
    assert placed.id != first.id and not placed.pending
    assert list(market.orders_of()) == [placed.id]  # the dead attempt is gone
    assert market.listing(listing).order_id == placed.id


async def test_cancelling_releases_the_seats_and_paying_sells_them(market):
    listing = await market.list(quantity=2)
    kept = await market.order(listing)
    dropped = await market.order(listing, buyer="buyer-2")
    assert market.listing(listing).state is TicketState.HELD
    await market.orders.cancel_order(CancelOrder("buyer-2", dropped.id))
    await market.pay(kept.id)
    await market.pump()
    ticket = market.listing(listing)
    assert (ticket.available, ticket.state) == (1, TicketState.FOR_SALE)
    assert [(h.order_id, h.seats, h.sold) for h in ticket.holds] == [(kept.id, (0,), True)]
    # Delivered again (at-least-once): nothing changes.
    version = ticket.version
    for event in market.orders_store.published:
        if isinstance(event, order_events.OrderCancelled | order_events.OrderUpdated):
            handler = (
                market.tickets.on_order_cancelled
                if isinstance(event, order_events.OrderCancelled)
                else market.tickets.on_order_updated
            )
            await handler(event, delivery(event))
    assert market.listing(listing).version == version


async def test_a_one_seat_ticket_reads_held_then_sold(market):
    listing = await market.list()
    order = await market.order(listing)
    ticket = market.listing(listing)
    assert (ticket.state, ticket.order_id, ticket.reserved) == (TicketState.HELD, order.id, True)
    await market.pay(order.id)
    await market.pump()
    assert market.listing(listing).state is TicketState.SOLD
    [*_, sold] = market.tickets_store.published_of(ticket_events.TicketUpdated)
    assert (sold.order_id, sold.available) == (order.id, 0)


async def test_an_edit_is_decided_by_the_listing_alone(market):
    """Seats held keep the price their order took them at; with none left for sale, an edit or
    a withdrawal is a conflict and changes nothing."""
    listing = await market.list(quantity=2, price="10")
    first = await market.order(listing)
    edited = await market.tickets.update_ticket(
        UpdateTicket(SELLER, listing, None, "30", expected_version=1)
    )
    assert edited.price == Decimal("30.00")
    assert market.listing(listing).holds[0].price == Decimal("10.00")
    assert (await market.orders.get_order(BUYER, first.id)).price == Decimal("10.00")
    second = await market.order(listing, buyer="buyer-2")
    assert second.price == Decimal("30.00")
    before = market.listing(listing)
    with pytest.raises(Conflict) as info:
        await market.tickets.update_ticket(
            UpdateTicket(SELLER, listing, None, "40", expected_version=before.version)
        )
    assert info.value.field == "id"
    with pytest.raises(Conflict):
        await market.tickets.withdraw_ticket(WithdrawTicket(SELLER, listing, before.version))
    assert market.listing(listing) == before
    with pytest.raises(Forbidden):
        await market.tickets.update_ticket(
            UpdateTicket(BUYER, listing, None, "1", expected_version=before.version)
        )


async def test_withdrawing_takes_the_seats_for_sale_and_leaves_the_held_ones(market):
    listing = await market.list(quantity=3)
    order = await market.order(listing)
    withdrawn = await market.tickets.withdraw_ticket(WithdrawTicket(SELLER, listing, 1))
    assert (withdrawn.available, withdrawn.state) == (0, TicketState.HELD)
    with pytest.raises(Conflict) as info:
        await market.order(listing, buyer="buyer-2")
    assert info.value.field == "ticket_id"
    # The held seat is still the buyer's: paid, it is sold; an unheld withdrawn listing reads
    # WITHDRAWN.
    await market.pay(order.id)
    await market.pump()
    assert market.listing(listing).state is TicketState.SOLD
    alone = await market.list()
    assert (await market.tickets.withdraw_ticket(WithdrawTicket(SELLER, alone, 0))).state is (
        TicketState.WITHDRAWN
    )


async def test_awaiting_payment_and_paid_are_published_as_order_updated(market):
    """The gateway pushes an order to its subscribers on its events, and tickets sells the
    seats on COMPLETE: a change of status must have one."""
    listing = await market.list()
    order = await market.order(listing)
    handlers = market.orders.event_handlers
    pending = payments_pb2.ChargePending(id="p1", order_id=order.id, stripe_id="pi_1", amount=1000)
    await handlers[payments_pb2.ChargePending](pending, delivery(pending))
    await market.pay(order.id)
    await market.pay(order.id)  # again: changes nothing
    assert market.orders_store.published_of(order_events.OrderUpdated) == [
        order_events.OrderUpdated(
            id=order.id, version=1, status=orders_pb2.ORDER_STATUS_AWAITING_PAYMENT, user_id=BUYER
        ),
        order_events.OrderUpdated(
            id=order.id, version=2, status=orders_pb2.ORDER_STATUS_COMPLETE, user_id=BUYER
        ),
    ]


async def test_an_order_carries_its_listings_currency(market):
    listing = await market.list(currency="GBP")
    order = await market.order(listing)
    assert order.currency_code == "GBP"
    [created] = market.orders_store.published_of(order_events.OrderCreated)
    assert created.ticket.currency_code == "GBP"


async def test_cancelling_a_cancelled_order_again_returns_it_and_publishes_nothing(market):
    """IDEM-7: a retried cancel reaches the state asked for; a paid order stays a conflict."""
    listing = await market.list(quantity=2)
    order = await market.order(listing)
    cancelled = await market.orders.cancel_order(CancelOrder(BUYER, order.id))
    published = len(market.orders_store.published)  # the sentinel: nothing more goes out
    again = await market.orders.cancel_order(CancelOrder(BUYER, order.id))
    assert (again.status.value, again.version) == ("CANCELLED", cancelled.version)
    assert len(market.orders_store.published) == published
    paid = await market.order(listing)
    await market.pay(paid.id)
    with pytest.raises(Conflict):
        await market.orders.cancel_order(CancelOrder(BUYER, paid.id))


async def test_a_listing_is_listed_with_a_quantity_its_split_rule_allows(market):
    with pytest.raises(InvalidInput) as info:
        await market.list(quantity=3, rule=SplitRule.EVEN)
    assert info.value.field == "quantity"
    with pytest.raises(InvalidInput):
        await market.list(quantity=0)
    assert market.tickets_store.table("tickets") == {}
