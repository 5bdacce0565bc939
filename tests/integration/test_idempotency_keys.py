"""Idempotency keys on CreateTicket and CreateOrder (docs/api.md §6), over real gRPC, SecantusDB
and RabbitMQ: a retry with the same key and input gets the first object as it is now, another
input is refused, concurrent duplicates make one object, a refusal records nothing."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from common.errors import ErrorCode
from common.grpc_errors import from_rpc_error
from tests.integration.test_tickets_orders import market as tickets_orders_market
from tests.integration.test_tickets_orders import new_key
from ticketing.orders.v1 import orders_pb2
from ticketing.tickets.v1 import tickets_pb2

pytestmark = pytest.mark.integration

market = tickets_orders_market  # the fixture: both services in-process, their databases


def ticket_request(key: str, price: str = "20", currency: str = "USD", title: str = "Concert"):
    return tickets_pb2.CreateTicketRequest(
        title=title, price=price, currency_code=currency, idempotency_key=key
    )


def order_request(ticket_id: str, key: str) -> orders_pb2.CreateOrderRequest:
    return orders_pb2.CreateOrderRequest(ticket_id=ticket_id, idempotency_key=key)


async def refusal(call) -> tuple[grpc.StatusCode, ErrorCode, str | None]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    error = from_rpc_error(info.value)
    return info.value.code(), error.code, error.field


REUSED = (grpc.StatusCode.FAILED_PRECONDITION, ErrorCode.IDEMPOTENCY_KEY_REUSED, "idempotency_key")


async def test_create_ticket_replays_the_same_key_and_input_and_refuses_another_input(market):
    seller, other = market.as_user(), market.as_user()
    key = new_key()
    first = (await market.tickets.CreateTicket(ticket_request(key, "20"), metadata=seller)).ticket
    # "20.00" is the same price as "20": the same request.
    again = (
        await market.tickets.CreateTicket(ticket_request(key, "20.00"), metadata=seller)
    ).ticket
    assert again == first
    for changed in (
        ticket_request(key, "21"),
        ticket_request(key, "20", currency="EUR"),
        ticket_request(key, "20", title="Opera"),
    ):
        assert await refusal(market.tickets.CreateTicket(changed, metadata=seller)) == REUSED
    # A key counts per user: the same string from another seller is another key.
    theirs = (await market.tickets.CreateTicket(ticket_request(key), metadata=other)).ticket
    assert theirs.id != first.id
    assert await market.tickets_db.tickets.count_documents({}) == 2


async def test_bad_keys_and_currencies_are_refused_and_record_nothing(market):
    seller = market.as_user()
    for key in ("", "has space", "x" * 65, "é"):
        assert await refusal(market.tickets.CreateTicket(ticket_request(key), metadata=seller)) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            ErrorCode.BAD_USER_INPUT,
            "idempotency_key",
        )
    for currency in ("", "usd", "JPY"):
        assert await refusal(
            market.tickets.CreateTicket(
                ticket_request(new_key(), currency=currency), metadata=seller
            )
        ) == (grpc.StatusCode.INVALID_ARGUMENT, ErrorCode.BAD_USER_INPUT, "currency_code")
    # A refused request records nothing: its key is free for another input afterwards.
    key = new_key()
    assert (await refusal(market.tickets.CreateTicket(ticket_request(key, "0"), metadata=seller)))[
        1
    ] is ErrorCode.BAD_USER_INPUT
    created = (await market.tickets.CreateTicket(ticket_request(key, "5"), metadata=seller)).ticket
    assert created.price == "5.00"
    assert await market.tickets_db.tickets.count_documents({}) == 1
    assert await market.tickets_db.idempotency_keys.count_documents({}) == 1
    ticket = await market.listed_ticket(seller)
    assert await refusal(
        market.orders.CreateOrder(order_request(ticket.id, "a/b"), metadata=market.as_user())
    ) == (grpc.StatusCode.INVALID_ARGUMENT, ErrorCode.BAD_USER_INPUT, "idempotency_key")


async def test_a_key_older_than_a_day_is_forgotten(market):
    seller, key = market.as_user(), new_key()
    first = (await market.tickets.CreateTicket(ticket_request(key, "20"), metadata=seller)).ticket
    await market.tickets_db.idempotency_keys.update_many(
        {}, [{"$set": {"created_at": {"$subtract": ["$created_at", 25 * 3600 * 1000]}}}]
    )
    # Another input with the old key is a new request now, not a reuse.
    second = (await market.tickets.CreateTicket(ticket_request(key, "30"), metadata=seller)).ticket
    assert second.id != first.id and second.price == "30.00"
    # And the key now names the second ticket.
    again = (await market.tickets.CreateTicket(ticket_request(key, "30"), metadata=seller)).ticket
    assert again.id == second.id
    [record] = await market.tickets_db.idempotency_keys.find({}).to_list()
    assert record["object_id"] == second.id


async def test_create_order_replays_the_order_as_it_is_now_and_refuses_another_ticket(market):
    seller, buyer, key = market.as_user(), market.as_user(), new_key()
    ticket, other = await market.listed_ticket(seller), await market.listed_ticket(seller)
    order = (await market.orders.CreateOrder(order_request(ticket.id, key), metadata=buyer)).order
    # The buyer's retry after a lost answer: the same order, never a CONFLICT with its own hold.
    again = (await market.orders.CreateOrder(order_request(ticket.id, key), metadata=buyer)).order
    assert again == order
    await market.orders.CancelOrder(orders_pb2.CancelOrderRequest(id=order.id), metadata=buyer)
    # Read as it is now: cancelled since (and no new order placed).
    replayed = (
        await market.orders.CreateOrder(order_request(ticket.id, key), metadata=buyer)
    ).order
    assert (replayed.id, replayed.status) == (order.id, orders_pb2.ORDER_STATUS_CANCELLED)
    assert (
        await refusal(market.orders.CreateOrder(order_request(other.id, key), metadata=buyer))
        == REUSED
    )
    assert await market.orders_db.orders.count_documents({}) == 1


async def test_a_refused_order_records_nothing(market):
    seller, buyer, key = market.as_user(), market.as_user(), new_key()
    own = await market.listed_ticket(buyer)
    # The buyer's own ticket: FORBIDDEN, and the key stays free.
    assert (await refusal(market.orders.CreateOrder(order_request(own.id, key), metadata=buyer)))[
        1
    ] is ErrorCode.FORBIDDEN
    held = await market.listed_ticket(seller)
    await market.orders.CreateOrder(order_request(held.id, new_key()), metadata=market.as_user())
    # Held by another's order: CONFLICT, and the key stays free.
    assert (await refusal(market.orders.CreateOrder(order_request(held.id, key), metadata=buyer)))[
        1
    ] is ErrorCode.CONFLICT
    free = await market.listed_ticket(seller)
    placed = (await market.orders.CreateOrder(order_request(free.id, key), metadata=buyer)).order
    assert placed.ticket_id == free.id
    assert await market.orders_db.idempotency_keys.count_documents({"user_id": {"$ne": ""}}) == 2


async def test_twenty_concurrent_duplicates_make_one_order_and_all_get_it(market):
    """The same request sent 20 times at once (a client retrying over a flaky network): each
    either commits the order or meets the first one's claim of the key, runs again and finds
    it. No CONFLICT with its own hold."""
    seller, buyer, key = market.as_user(), market.as_user(), new_key()
    ticket = await market.listed_ticket(seller)
    replies = await asyncio.gather(
        *(
            market.orders.CreateOrder(order_request(ticket.id, key), metadata=buyer)
            for _ in range(20)
        ),
        return_exceptions=True,
    )
    errors = [r for r in replies if isinstance(r, BaseException)]
    assert errors == []
    assert len({r.order.id for r in replies}) == 1
    assert await market.orders_db.orders.count_documents({"ticket_id": ticket.id}) == 1
    assert await market.orders_db.idempotency_keys.count_documents({}) == 1


async def test_ten_concurrent_duplicate_listings_make_one_ticket(market):
    seller, key = market.as_user(), new_key()
    replies = await asyncio.gather(
        *(market.tickets.CreateTicket(ticket_request(key), metadata=seller) for _ in range(10)),
        return_exceptions=True,
    )
    assert [r for r in replies if isinstance(r, BaseException)] == []
    assert len({r.ticket.id for r in replies}) == 1
    assert await market.tickets_db.tickets.count_documents({}) == 1
