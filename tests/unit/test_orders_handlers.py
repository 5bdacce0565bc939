"""The orders service layer with fakes: a seller's edit is settled against the orders on the
ticket (orders is the authority on holds), and a ticket whose events have not arrived yet is
read through from the tickets service instead of being NOT_FOUND."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from common.bus import Delivery
from common.clock import FrozenClock
from common.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from svc_orders.domain.model import TicketCopy, TicketState
from svc_orders.service_layer.handlers import (
    ApplyTicketEdit,
    CancelOrder,
    CreateOrder,
    OrderHandlers,
)
from tests.unit.fakes_market import FakeStore, FakeTicketsService, uow_factory
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.events.v1 import payments_pb2, tickets_pb2
from ticketing.orders.v1 import orders_pb2

SELLER, BUYER = "seller-1", "buyer-1"


class World:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.tickets_service = FakeTicketsService()
        self.handlers = OrderHandlers(
            uow=uow_factory(self.store, "orders", "tickets"),  # type: ignore[arg-type]
            clock=FrozenClock(),
            hold_for=timedelta(minutes=15),
            tickets=self.tickets_service,
        )

    def copy(self, ticket_id: str = "t1") -> TicketCopy:
        return self.store.table("tickets")[ticket_id]

    async def ticket_created(self, ticket_id: str = "t1", price: str = "10.00") -> None:
        event = tickets_pb2.TicketCreated(
            id=ticket_id, version=0, title="Concert", price=price, user_id=SELLER
        )
        await self.handlers.on_ticket_created(event, delivery(event))

    async def ticket_updated(self, version: int, price: str, ticket_id: str = "t1") -> None:
        event = tickets_pb2.TicketUpdated(
            id=ticket_id, version=version, title=f"v{version}", price=price, user_id=SELLER
        )
        await self.handlers.on_ticket_updated(event, delivery(event))

    async def edit(self, version: int = 1, price: str = "99.00", by: str = SELLER, title="New"):
        return await self.handlers.apply_ticket_edit(
            ApplyTicketEdit(by, "t1", version, title, price)
        )

    async def order(self, ticket_id: str = "t1", buyer: str = BUYER):
        return await self.handlers.create_order(CreateOrder(buyer, ticket_id, str(uuid.uuid4())))


def delivery(event) -> Delivery:
    return Delivery(str(uuid.uuid4()), event.DESCRIPTOR.full_name, "", 1, "tickets")


@pytest.fixture
def world() -> World:
    return World()


# -- ApplyTicketEdit --------------------------------------------------------------------------


async def test_an_edit_is_applied_to_the_copy_and_orders_placed_after_it_carry_it(world):
    await world.ticket_created()
    copy = await world.edit(version=1, price="99.00")
    assert (copy.version, copy.title, copy.price) == (1, "New", Decimal("99.00"))
    assert (await world.order()).price == Decimal("99.00")
    # The edit's own TicketUpdated, when it comes, is already applied.
    await world.ticket_updated(1, "99.00")
    assert (world.copy().version, world.copy().title) == (1, "New")


async def test_an_edit_under_a_holding_order_is_a_conflict_and_changes_nothing(world):
    await world.ticket_created()
    order = await world.order()
    with pytest.raises(Conflict):
        await world.edit(version=2)
    assert (world.copy().price, world.copy().held_by) == (Decimal("10.00"), order.id)
    assert order.price == Decimal("10.00")


async def test_once_the_holding_order_is_cancelled_the_ticket_can_be_edited(world):
    await world.ticket_created()
    order = await world.order()
    await world.handlers.cancel_order(CancelOrder(BUYER, order.id))
    assert (await world.edit(version=3, price="12.50")).price == Decimal("12.50")


async def test_cancelling_a_cancelled_order_again_returns_it_and_publishes_nothing(world):
    """IDEM-7: a retried cancel reaches the state asked for; a paid order stays a conflict."""
    await world.ticket_created()
    order = await world.order()
    cancelled = await world.handlers.cancel_order(CancelOrder(BUYER, order.id))
    published = len(world.store.published)  # the sentinel: nothing more goes out
    again = await world.handlers.cancel_order(CancelOrder(BUYER, order.id))
    assert (again.status.value, again.version, again.cancel_reason) == (
        "CANCELLED",
        cancelled.version,
        cancelled.cancel_reason,
    )
    assert len(world.store.published) == published
    paid = await world.order()
    assert paid.complete()
    world.store.table("orders")[paid.id] = paid
    with pytest.raises(Conflict):
        await world.handlers.cancel_order(CancelOrder(BUYER, paid.id))


async def test_only_the_seller_may_edit(world):
    await world.ticket_created()
    with pytest.raises(Forbidden):
        await world.edit(by=BUYER)
    assert world.copy().price == Decimal("10.00")


async def test_an_edit_with_a_bad_price_or_version_is_refused(world):
    await world.ticket_created()
    with pytest.raises(InvalidInput) as info:
        await world.edit(price="abc")
    assert info.value.field == "price"
    with pytest.raises(InvalidInput):
        await world.edit(version=0)


async def test_an_edit_asked_again_at_the_same_version_takes_the_latest_values(world):
    """The tickets service failed to commit after we applied it, and asks again."""
    await world.ticket_created()
    await world.edit(version=1, price="99.00")
    copy = await world.edit(version=1, price="50.00", title="Again")
    assert (copy.version, copy.title, copy.price) == (1, "Again", Decimal("50.00"))


async def test_an_edit_ahead_of_the_copy_jumps_to_its_version(world):
    """The TicketUpdated events of a reserve and a release (no new title or price) are still on
    their way: the copy takes the edit's version and ignores them when they come."""
    await world.ticket_created()
    await world.edit(version=3, price="40.00")
    await world.ticket_updated(2, "10.00")
    await world.ticket_updated(1, "10.00")
    assert (world.copy().version, world.copy().price) == (3, Decimal("40.00"))
    await world.ticket_updated(4, "40.00")
    assert world.copy().version == 4


async def test_an_edit_of_a_ticket_not_arrived_yet_reads_it_through_first(world):
    world.tickets_service.tickets["t1"] = TicketCopy("t1", 0, "Concert", Decimal("10"), SELLER)
    copy = await world.edit(version=1, price="30.00")
    assert (copy.version, copy.price) == (1, Decimal("30.00"))
    assert world.tickets_service.asked == ["t1"]
    await world.ticket_created()  # late: already known
    assert world.copy().price == Decimal("30.00")


# -- CreateOrder reads through -----------------------------------------------------------------


async def test_an_order_for_a_ticket_not_arrived_yet_reads_it_through(world):
    world.tickets_service.tickets["t1"] = TicketCopy("t1", 2, "Concert", Decimal("25"), SELLER)
    order = await world.order()
    assert order.price == Decimal("25")
    assert (world.copy().version, world.copy().held_by) == (2, order.id)
    assert world.tickets_service.asked == ["t1"]
    # Later events apply on top of the copy read through, by version, as always.
    await world.ticket_created()
    await world.ticket_updated(2, "25.00")
    assert world.copy().version == 2 and world.copy().held_by == order.id
    await world.ticket_updated(3, "25.00")
    assert world.copy().version == 3 and world.copy().held_by == order.id
    # A known ticket needs no call.
    with pytest.raises(Conflict):
        await world.order(buyer="another")
    assert world.tickets_service.asked == ["t1"]


async def test_a_ticket_that_does_not_exist_is_not_found(world):
    with pytest.raises(NotFound) as info:
        await world.order("nope")
    assert info.value.field == "ticketId"
    assert world.store.table("tickets") == {} and world.store.table("orders") == {}


async def test_tickets_unreachable_for_a_ticket_not_arrived_is_unavailable(world):
    world.tickets_service.reachable = False
    with pytest.raises(Unavailable):
        await world.order()
    await world.ticket_created()
    assert (await world.order()).price == Decimal("10.00")  # the copy needs no call


async def test_a_copy_read_through_still_refuses_the_sellers_own_order(world):
    world.tickets_service.tickets["t1"] = TicketCopy("t1", 0, "Concert", Decimal("10"), SELLER)
    with pytest.raises(Forbidden):
        await world.order(buyer=SELLER)


# -- status changes that keep the ticket ------------------------------------------------------


async def test_awaiting_payment_and_paid_are_published_as_order_updated(world):
    """The gateway pushes an order to its subscribers on its events: a change of status that
    keeps the ticket must have one too, or a paid order would never be pushed."""
    await world.ticket_created()
    order = await world.order()
    handlers = world.handlers.event_handlers
    pending = payments_pb2.ChargePending(id="p1", order_id=order.id, stripe_id="pi_1", amount=1000)
    await handlers[payments_pb2.ChargePending](pending, delivery(pending))
    paid = payments_pb2.ChargeCreated(id="p1", order_id=order.id, stripe_id="pi_1", amount=1000)
    await handlers[payments_pb2.ChargeCreated](paid, delivery(paid))
    await handlers[payments_pb2.ChargeCreated](paid, delivery(paid))  # again: changes nothing
    assert world.store.published_of(order_events.OrderUpdated) == [
        order_events.OrderUpdated(
            id=order.id, version=1, status=orders_pb2.ORDER_STATUS_AWAITING_PAYMENT, user_id=BUYER
        ),
        order_events.OrderUpdated(
            id=order.id, version=2, status=orders_pb2.ORDER_STATUS_COMPLETE, user_id=BUYER
        ),
    ]


# -- v1: withdrawn tickets, ticket states, currencies -----------------------------------------


async def test_a_withdrawn_ticket_takes_no_order_and_no_later_edit(world):
    await world.ticket_created()
    await world.handlers.apply_ticket_edit(
        ApplyTicketEdit(SELLER, "t1", 1, "Concert", "10.00", withdraw=True)
    )
    with pytest.raises(Conflict) as info:
        await world.order()
    assert info.value.field == "ticket_id"
    with pytest.raises(Conflict):
        await world.edit(version=2)
    assert world.store.table("orders") == {}
    assert await world.handlers.ticket_states(["t1"]) == [("t1", TicketState.WITHDRAWN)]


async def test_a_ticket_under_an_order_cannot_be_withdrawn(world):
    await world.ticket_created()
    await world.order()
    with pytest.raises(Conflict):
        await world.handlers.apply_ticket_edit(
            ApplyTicketEdit(SELLER, "t1", 2, "Concert", "10.00", withdraw=True)
        )
    assert not world.copy().withdrawn


async def test_ticket_states_follow_the_orders_holding_them(world):
    for ticket_id in ("t1", "t2", "t3"):
        await world.ticket_created(ticket_id)
    held = await world.order("t1")
    sold = await world.order("t2")
    paid = payments_pb2.ChargeCreated(id="p1", order_id=sold.id, stripe_id="pi_1", amount=1000)
    await world.handlers.event_handlers[payments_pb2.ChargeCreated](paid, delivery(paid))
    asked = ["t2", "unknown", "t1", "t3"]
    assert await world.handlers.ticket_states(asked) == [
        ("t2", TicketState.SOLD),
        ("unknown", TicketState.FOR_SALE),
        ("t1", TicketState.HELD),
        ("t3", TicketState.FOR_SALE),
    ]
    await world.handlers.cancel_order(CancelOrder(BUYER, held.id))
    assert await world.handlers.ticket_states(["t1"]) == [("t1", TicketState.FOR_SALE)]
    with pytest.raises(InvalidInput) as info:
        await world.handlers.ticket_states([f"t{i}" for i in range(101)])
    assert info.value.field == "ticket_ids"


async def test_an_order_carries_its_tickets_currency(world):
    event = tickets_pb2.TicketCreated(
        id="t1", version=0, title="Concert", price="10.00", user_id=SELLER, currency_code="GBP"
    )
    await world.handlers.on_ticket_created(event, delivery(event))
    order = await world.order()
    assert order.currency_code == "GBP"
    [created] = world.store.published_of(order_events.OrderCreated)
    assert created.ticket.currency_code == "GBP"
    # An event of an older producer (no currency): USD, what those tickets were in.
    await world.ticket_created("t2")
    assert (await world.order("t2")).currency_code == "USD"
