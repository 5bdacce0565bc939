"""The tickets service layer with fakes: a seller's edit is settled by the orders service (the
authority on holds) before it is committed here, and a sold ticket shows the price paid."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from common.bus import Delivery
from common.clock import FrozenClock
from common.errors import Conflict, Forbidden, InvalidInput, Unavailable
from svc_tickets.service_layer.handlers import (
    CreateTicket,
    TicketHandlers,
    UpdateTicket,
    WithdrawTicket,
)
from svc_tickets.service_layer.ports import TicketEdit
from tests.unit.fakes_market import FakeHoldAuthority, FakeStore, uow_factory
from ticketing.events.v1 import orders_pb2
from ticketing.events.v1 import tickets_pb2 as ticket_events

SELLER = "seller-1"


class World:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.orders_service = FakeHoldAuthority()
        self.handlers = TicketHandlers(
            uow=uow_factory(self.store, "tickets"),  # type: ignore[arg-type]
            clock=FrozenClock(),
            holds=self.orders_service,
            new_id=lambda: "t1",
        )

    def ticket(self):
        return self.store.table("tickets")["t1"]

    async def listed(self, price: str = "10") -> None:
        await self.handlers.create_ticket(CreateTicket(SELLER, "Concert", price, "USD", "k1"))
        self.store.published.clear()

    async def update(
        self, price: str = "99", by: str = SELLER, title: str = "Concert", expected_version=0
    ):
        return await self.handlers.update_ticket(
            UpdateTicket(by, "t1", title, price, expected_version, token="tok")
        )

    async def order_created(self, order_id: str = "o1", price: str = "10.00") -> None:
        event = orders_pb2.OrderCreated(
            id=order_id, ticket=orders_pb2.OrderCreated.Ticket(id="t1", price=price)
        )
        delivery = Delivery(str(uuid.uuid4()), event.DESCRIPTOR.full_name, "", 1, "orders")
        await self.handlers.on_order_created(event, delivery)


@pytest.fixture
def world() -> World:
    return World()


async def test_an_edit_is_settled_by_orders_with_the_sellers_token_then_committed(world):
    await world.listed()
    ticket = await world.update("99")
    assert (ticket.version, ticket.price) == (1, Decimal("99.00"))
    assert world.orders_service.edits == [(TicketEdit("t1", 1, "Concert", Decimal("99.00")), "tok")]
    [event] = world.store.published_of(ticket_events.TicketUpdated)
    assert (event.version, event.price) == (1, "99.00")


async def test_an_edit_orders_refuses_changes_nothing(world):
    await world.listed()
    world.orders_service.refusals = [Conflict("Ticket is reserved and cannot be changed")]
    with pytest.raises(Conflict):
        await world.update("99")
    assert (world.ticket().version, world.ticket().price) == (0, Decimal("10.00"))
    assert world.store.published == []


async def test_orders_unreachable_is_unavailable_and_changes_nothing(world):
    await world.listed()
    world.orders_service.refusals = [Unavailable("A service is unavailable, try again shortly")]
    with pytest.raises(Unavailable):
        await world.update("99")
    assert world.ticket().price == Decimal("10.00") and world.store.published == []


async def test_another_user_or_bad_input_is_refused_before_orders_is_asked(world):
    await world.listed()
    with pytest.raises(Forbidden):
        await world.update(by="someone-else")
    with pytest.raises(InvalidInput):
        await world.update(price="-1")
    with pytest.raises(InvalidInput):
        await world.update(title="  ")
    assert world.orders_service.edits == []


async def test_a_stale_hold_here_does_not_block_an_edit_orders_allows(world):
    """`order_id` here follows orders' events a little late; orders decides."""
    await world.listed()
    await world.order_created("o1")  # its cancellation is still on its way here
    assert (await world.update("20", expected_version=1)).price == Decimal("20.00")


async def test_an_order_landing_between_the_ask_and_the_commit_wins_and_shows_its_price(world):
    """Orders applied the edit, an order was placed at the new price, and its OrderCreated
    reserved the ticket here before the edit was committed: the edit is asked again at the new
    version, refused (the ticket is held), and the sold ticket shows the price paid."""
    await world.listed()
    world.orders_service.during = [lambda: world.order_created("o1", price="99.00")]
    world.orders_service.refusals = [None, Conflict("Ticket is reserved and cannot be changed")]
    with pytest.raises(Conflict):
        await world.update("99")
    assert [edit.version for edit, _ in world.orders_service.edits] == [1, 2]
    ticket = world.ticket()
    assert (ticket.order_id, ticket.price, ticket.version) == ("o1", Decimal("99.00"), 1)


async def test_a_reserved_ticket_takes_the_price_its_order_was_placed_at(world):
    """An edit orders applied but this service never committed (it stopped in between)."""
    await world.listed("10")
    await world.order_created("o1", price="99.00")
    ticket = world.ticket()
    assert (ticket.order_id, ticket.price) == ("o1", Decimal("99.00"))
    [event] = world.store.published_of(ticket_events.TicketUpdated)
    assert (event.order_id, event.price) == ("o1", "99.00")


# -- v1: versioned edits and withdrawal --------------------------------------------------------


async def test_of_two_tabs_editing_one_version_the_loser_is_stale_and_orders_gets_it_back(world):
    """Both edits asked orders at version 1; the other tab committed first. The loser is
    refused (expected_version) and the orders service is given the committed ticket again, so
    orders placed afterwards carry the values the ticket shows."""
    await world.listed("10")
    world.orders_service.during = [lambda: world.update("50", title="Other tab")]
    with pytest.raises(Conflict) as info:
        await world.update("99")
    assert info.value.field == "expected_version"
    ticket = world.ticket()
    assert (ticket.version, ticket.title, ticket.price) == (1, "Other tab", Decimal("50.00"))
    assert [(e.version, e.title, e.price) for e, _ in world.orders_service.edits] == [
        (1, "Concert", Decimal("99.00")),
        (1, "Other tab", Decimal("50.00")),
        (1, "Other tab", Decimal("50.00")),  # given back
    ]
    assert [e.title for e in world.store.published_of(ticket_events.TicketUpdated)] == ["Other tab"]


async def test_a_held_ticket_is_a_conflict_on_its_id(world):
    await world.listed()
    world.orders_service.refusals = [Conflict("Ticket is reserved and cannot be changed")]
    with pytest.raises(Conflict) as info:
        await world.update("99")
    assert info.value.field == "id"


async def test_withdrawing_is_settled_with_orders_and_published(world):
    await world.listed()
    withdraw = WithdrawTicket(SELLER, "t1", expected_version=0, token="tok")
    gone = await world.handlers.withdraw_ticket(withdraw)
    assert (gone.withdrawn, gone.version) == (True, 1)
    [(edit, token)] = world.orders_service.edits
    assert (edit.withdraw, edit.version, token) == (True, 1, "tok")
    [event] = world.store.published_of(ticket_events.TicketUpdated)
    assert (event.withdrawn, event.version, event.currency_code) == (True, 1, "USD")
    # Asked again at the same expected version: returned, orders not asked again.
    assert (await world.handlers.withdraw_ticket(withdraw)).version == 1
    assert len(world.orders_service.edits) == 1
    with pytest.raises(Conflict) as info:
        await world.update("5", expected_version=1)
    assert info.value.field == "id"
    with pytest.raises(Forbidden):
        await world.handlers.withdraw_ticket(WithdrawTicket("someone", "t1", 1))


async def test_a_withdrawal_orders_refuses_changes_nothing(world):
    await world.listed()
    world.orders_service.refusals = [Conflict("Ticket is reserved and cannot be changed")]
    with pytest.raises(Conflict) as info:
        await world.handlers.withdraw_ticket(WithdrawTicket(SELLER, "t1", 0))
    assert info.value.field == "id"
    assert (world.ticket().withdrawn, world.ticket().version) == (False, 0)
    assert world.store.published == []
