"""The v1 contract of the tickets and orders services over real gRPC, SecantusDB and RabbitMQ:
versioned edits, withdrawing a ticket, ticket states from tickets (the one authority on
availability), and paging both ways with exact page flags."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC

import grpc
import pytest

from common.errors import ErrorCode
from common.grpc_errors import from_rpc_error
from common.pagination import Cursor
from tests.integration.test_tickets_orders import market as tickets_orders_market
from tests.integration.test_tickets_orders import new_key
from tests.support.bus_probe import publish_event
from tests.support.tap import EventTap
from ticketing.events.v1 import payments_pb2
from ticketing.orders.v1 import orders_pb2
from ticketing.tickets.v1 import tickets_pb2

pytestmark = pytest.mark.integration

market = tickets_orders_market  # the fixture: both services in-process, their databases

FOR_SALE, HELD, SOLD, WITHDRAWN = (
    tickets_pb2.TICKET_STATE_FOR_SALE,
    tickets_pb2.TICKET_STATE_HELD,
    tickets_pb2.TICKET_STATE_SOLD,
    tickets_pb2.TICKET_STATE_WITHDRAWN,
)


async def refusal(call) -> tuple[grpc.StatusCode, ErrorCode, str | None]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    error = from_rpc_error(info.value)
    return info.value.code(), error.code, error.field


def conflict_on(field: str):
    return (grpc.StatusCode.FAILED_PRECONDITION, ErrorCode.CONFLICT, field)


def update(ticket_id: str, expected: int, **fields) -> tickets_pb2.UpdateTicketRequest:
    return tickets_pb2.UpdateTicketRequest(id=ticket_id, expected_version=expected, **fields)


def withdraw(ticket_id: str, expected: int) -> tickets_pb2.WithdrawTicketRequest:
    return tickets_pb2.WithdrawTicketRequest(id=ticket_id, expected_version=expected)


async def order(market, ticket_id: str, buyer) -> orders_pb2.Order:
    request = orders_pb2.CreateOrderRequest(ticket_id=ticket_id, idempotency_key=new_key())
    return (await market.orders.CreateOrder(request, metadata=buyer)).order


async def states(market, *ticket_ids: str) -> list[int | None]:
    """Each asked ticket's state as tickets (public reads) has it; None for an unknown id."""
    reply = await market.tickets.BatchGetTickets(tickets_pb2.BatchGetTicketsRequest(ids=ticket_ids))
    by_id = {t.id: t.state for t in reply.tickets}
    return [by_id.get(i) for i in ticket_ids]


# -- UpdateTicket ------------------------------------------------------------------------------


async def test_an_edit_needs_the_current_version_and_repeating_it_returns_it(market):
    seller = market.as_user()
    ticket = await market.listed_ticket(seller, "10", currency="GBP")
    edit = update(ticket.id, 0, price="12")
    edited = (await market.tickets.UpdateTicket(edit, metadata=seller)).ticket
    assert (edited.version, edited.title, edited.price) == (1, "Concert", "12.00")
    # The same request again (its answer was lost): the ticket is already what it asks.
    again = (await market.tickets.UpdateTicket(edit, metadata=seller)).ticket
    assert again == edited
    # Another change from version 0 (a second tab): stale, nothing changes.
    assert await refusal(
        market.tickets.UpdateTicket(update(ticket.id, 0, title="Other"), metadata=seller)
    ) == conflict_on("expected_version")
    assert await refusal(
        market.tickets.UpdateTicket(update(ticket.id, 5, title="Other"), metadata=seller)
    ) == conflict_on("expected_version")
    titled = (
        await market.tickets.UpdateTicket(update(ticket.id, 1, title="Opera"), metadata=seller)
    ).ticket
    assert (titled.version, titled.title, titled.price) == (2, "Opera", "12.00")
    assert titled.currency_code == "GBP"
    bad_input = (grpc.StatusCode.INVALID_ARGUMENT, ErrorCode.BAD_USER_INPUT)
    # Neither title nor price; another currency.
    assert (await refusal(market.tickets.UpdateTicket(update(ticket.id, 2), metadata=seller)))[
        :2
    ] == bad_input
    assert await refusal(
        market.tickets.UpdateTicket(
            update(ticket.id, 2, price="13", currency_code="USD"), metadata=seller
        )
    ) == (*bad_input, "currency_code")
    same_currency = update(ticket.id, 2, price="13", currency_code="GBP")
    assert (await market.tickets.UpdateTicket(same_currency, metadata=seller)).ticket.price == (
        "13.00"
    )
    assert (await market.ticket(ticket.id)).version == 3


# -- WithdrawTicket ----------------------------------------------------------------------------


async def test_a_withdrawn_ticket_is_off_sale_for_good(market, amqp_url, namespace):
    seller, buyer = market.as_user(), market.as_user()
    ticket = await market.listed_ticket(seller, "10")
    kept = await market.listed_ticket(seller, "10")
    tap = EventTap(amqp_url, namespace, ("ticket.updated",))
    try:
        assert (
            await refusal(market.tickets.WithdrawTicket(withdraw(ticket.id, 0), metadata=buyer))
        )[:2] == (grpc.StatusCode.PERMISSION_DENIED, ErrorCode.FORBIDDEN)
        assert await refusal(
            market.tickets.WithdrawTicket(withdraw(ticket.id, 3), metadata=seller)
        ) == conflict_on("expected_version")
        gone = (await market.tickets.WithdrawTicket(withdraw(ticket.id, 0), metadata=seller)).ticket
        assert (gone.withdrawn, gone.version) == (True, 1)
        # Asked again (a lost answer): returned as it is.
        again = (
            await market.tickets.WithdrawTicket(withdraw(ticket.id, 0), metadata=seller)
        ).ticket
        assert again == gone
        [event] = await asyncio.to_thread(tap.wait_for, 1)
    finally:
        tap.close()
    body = json.loads(event.body)
    assert (body["id"], body["version"], body["withdrawn"]) == (ticket.id, 1, True)

    assert await refusal(order(market, ticket.id, buyer)) == conflict_on("ticket_id")
    assert await refusal(
        market.tickets.UpdateTicket(update(ticket.id, 1, price="5"), metadata=seller)
    ) == conflict_on("id")
    # Still read by id; never listed, not even with the reserved ones.
    assert (await market.ticket(ticket.id)).withdrawn
    batch = await market.tickets.BatchGetTickets(
        tickets_pb2.BatchGetTicketsRequest(ids=[ticket.id])
    )
    assert [t.withdrawn for t in batch.tickets] == [True]
    for include_reserved in (False, True):
        listed = await market.tickets.ListTickets(
            tickets_pb2.ListTicketsRequest(include_reserved=include_reserved)
        )
        assert [t.id for t in listed.tickets] == [kept.id]
    assert await states(market, ticket.id, kept.id) == [WITHDRAWN, FOR_SALE]
    assert await market.orders_db.orders.count_documents({"pending": {"$ne": True}}) == 0


async def test_a_held_ticket_cannot_be_withdrawn(market):
    seller, buyer = market.as_user(), market.as_user()
    ticket = await market.listed_ticket(seller, "10")
    placed = await order(market, ticket.id, buyer)
    # The seller reads it held (the hold moved its version) and tries: it is refused.
    held = await market.ticket(ticket.id)
    assert held.order_id == placed.id
    assert await refusal(
        market.tickets.WithdrawTicket(withdraw(ticket.id, held.version), metadata=seller)
    ) == conflict_on("id")
    assert not (await market.ticket(ticket.id)).withdrawn
    await market.orders.CancelOrder(orders_pb2.CancelOrderRequest(id=placed.id), metadata=buyer)
    released = await market.eventually_ticket(ticket.id, lambda t: t.version == 2)
    assert not released.withdrawn
    gone = (await market.tickets.WithdrawTicket(withdraw(ticket.id, 2), metadata=seller)).ticket
    assert (gone.withdrawn, gone.version) == (True, 3)


# -- states ------------------------------------------------------------------------------------


async def test_ticket_states_come_from_the_holds(market, amqp_url, namespace):
    seller, buyer = market.as_user(), market.as_user()
    free, held, sold = [await market.listed_ticket(seller) for _ in range(3)]
    await order(market, held.id, buyer)
    paid = await order(market, sold.id, buyer)
    publish_event(
        amqp_url,
        namespace,
        payments_pb2.ChargeCreated(id=new_key(), order_id=paid.id, stripe_id="pi_1", amount=2000),
    )

    async def complete() -> orders_pb2.Order:
        for _ in range(200):
            reply = await market.orders.GetOrder(
                orders_pb2.GetOrderRequest(id=paid.id), metadata=buyer
            )
            if reply.order.status == orders_pb2.ORDER_STATUS_COMPLETE:
                return reply.order
            await asyncio.sleep(0.05)
        raise AssertionError("the order was never paid")

    await complete()
    # Sold once tickets has the order's OrderUpdated (COMPLETE); held and free at once.
    await market.eventually_ticket(sold.id, lambda t: t.state == SOLD)
    unknown = new_key()
    assert await states(market, sold.id, unknown, held.id, free.id) == [
        SOLD,
        None,
        HELD,
        FOR_SALE,
    ]
    # The old reads of orders are gone: a client still asking is told so, not given a copy.
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await market.orders.BatchGetTicketStates(
            orders_pb2.BatchGetTicketStatesRequest(ticket_ids=[held.id])
        )
    assert gone.value.code() == grpc.StatusCode.UNIMPLEMENTED


# -- paging ------------------------------------------------------------------------------------


def cursor_of(item) -> str:
    """The cursor of a listed item, as the gateway makes it for an edge."""
    return Cursor(item.create_time.ToDatetime(tzinfo=UTC), item.id).encode()


async def test_tickets_page_both_ways_with_exact_flags(market):
    seller = market.as_user()
    for _ in range(5):
        await market.listed_ticket(seller)
    everything = (
        await market.tickets.ListTickets(tickets_pb2.ListTicketsRequest(page_size=100))
    ).tickets
    ids = [t.id for t in everything]
    newest_first = sorted(everything, key=lambda t: (t.create_time.ToMilliseconds(), t.id))[::-1]
    assert ids == [t.id for t in newest_first] and len(ids) == 5

    async def page(**request) -> tuple[list[str], bool, bool]:
        reply = await market.tickets.ListTickets(
            tickets_pb2.ListTicketsRequest(page_size=2, **request)
        )
        return [t.id for t in reply.tickets], reply.has_next_page, reply.has_previous_page

    # Forwards: each page's next_page_token leads on.
    assert await page() == (ids[0:2], True, False)
    assert await page(page_token=cursor_of(everything[1])) == (ids[2:4], True, True)
    assert await page(page_token=cursor_of(everything[3])) == (ids[4:5], False, True)
    first = await market.tickets.ListTickets(tickets_pb2.ListTicketsRequest(page_size=2))
    assert first.next_page_token == cursor_of(everything[1])
    # Backwards: from the oldest end, then before each page's first; still newest first.
    assert await page(backward=True) == (ids[3:5], False, True)
    assert await page(before_page_token=cursor_of(everything[3]), backward=True) == (
        ids[1:3],
        True,
        True,
    )
    assert await page(before_page_token=cursor_of(everything[1]), backward=True) == (
        ids[0:1],
        True,
        False,
    )
    # Past either end: an empty page that still knows what lies the other way.
    assert await page(page_token=cursor_of(everything[4])) == ([], False, True)
    assert await page(before_page_token=cursor_of(everything[0]), backward=True) == (
        [],
        True,
        False,
    )
    bad = tickets_pb2.ListTicketsRequest(before_page_token="not-a-cursor", backward=True)
    assert await refusal(market.tickets.ListTickets(bad)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ErrorCode.BAD_USER_INPUT,
        "before",
    )


async def test_orders_page_both_ways_and_count_only_when_asked(market):
    seller, buyer, other = market.as_user(), market.as_user(), market.as_user()
    for _ in range(3):
        await order(market, (await market.listed_ticket(seller)).id, buyer)
    await order(market, (await market.listed_ticket(seller)).id, other)

    async def listed(**request) -> orders_pb2.ListOrdersResponse:
        return await market.orders.ListOrders(
            orders_pb2.ListOrdersRequest(**request), metadata=buyer
        )

    everything = (await listed(include_total_count=True)).orders
    assert len(everything) == 3
    ids = [o.id for o in everything]
    first = await listed(page_size=2, include_total_count=True)
    assert ([o.id for o in first.orders], first.has_next_page, first.has_previous_page) == (
        ids[0:2],
        True,
        False,
    )
    assert first.total_count == 3  # the caller's only
    assert first.next_page_token == cursor_of(everything[1])
    second = await listed(page_size=2, page_token=first.next_page_token)
    assert ([o.id for o in second.orders], second.has_next_page, second.has_previous_page) == (
        ids[2:3],
        False,
        True,
    )
    assert second.total_count == 0  # not asked
    oldest = await listed(page_size=2, backward=True)
    assert ([o.id for o in oldest.orders], oldest.has_next_page, oldest.has_previous_page) == (
        ids[1:3],
        False,
        True,
    )
    newer = await listed(page_size=2, backward=True, before_page_token=cursor_of(everything[1]))
    assert ([o.id for o in newer.orders], newer.has_next_page, newer.has_previous_page) == (
        ids[0:1],
        True,
        False,
    )
