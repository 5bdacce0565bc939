"""One authority per fact, over real gRPC, SecantusDB, RabbitMQ and the Stripe stand-in, the
services in-process on ports chosen up front (so that each can reach the others, as in a
deployment):

- the tickets service decides availability (issue 20: which order holds which seats), so a
  seller's edit racing a buyer's order either fails with CONFLICT or comes first and the order
  carries it; the held ticket shows the price the order took it at;
- orders needs no ticket event at all to place an order (it keeps no copy of tickets);
- an order whose event has not arrived yet is read through from its authority (orders), never
  NOT_FOUND.

Events are withheld by starting a service without its event consumer (its queue is never bound,
so it hears nothing), as when the broker is down."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable

import grpc
import pytest

from common.errors import ErrorCode
from common.grpc_errors import from_rpc_error
from common.mongo import database_name, mongo_client
from common.service import ServiceProcess
from svc_orders.bootstrap import bootstrap as orders_bootstrap
from svc_orders.config import OrdersSettings
from svc_payments.bootstrap import bootstrap as payments_bootstrap
from svc_payments.config import PaymentsSettings
from svc_tickets.bootstrap import bootstrap as tickets_bootstrap
from svc_tickets.config import TicketsSettings
from tests.support import servers, service_tokens
from tests.support.tokens import issuer_for
from ticketing.orders.v1 import orders_pb2, orders_pb2_grpc
from ticketing.payments.v1 import payments_pb2, payments_pb2_grpc
from ticketing.tickets.v1 import tickets_pb2, tickets_pb2_grpc

pytestmark = pytest.mark.integration

SERVICES = ("tickets", "orders", "payments")


def _bootstrap(name: str, env: dict[str, str]) -> ServiceProcess:
    if name == "tickets":
        return tickets_bootstrap(TicketsSettings.from_env(env))
    if name == "orders":
        return orders_bootstrap(OrdersSettings.from_env(env))
    return payments_bootstrap(PaymentsSettings.from_env(env))


class Stack:
    def __init__(self, env: dict[str, str], ports: dict[str, int]) -> None:
        self.issuer = issuer_for(env)
        self.channels = {
            name: service_tokens.channel(env, f"127.0.0.1:{port}") for name, port in ports.items()
        }
        self.tickets = tickets_pb2_grpc.TicketsServiceStub(self.channels["tickets"])
        self.orders = orders_pb2_grpc.OrdersServiceStub(self.channels["orders"])
        self.payments = payments_pb2_grpc.PaymentsServiceStub(self.channels["payments"])
        self.mongo = mongo_client(env["MONGO_URL"])
        self.orders_db = self.mongo[database_name(env["TICKETING_NAMESPACE"], "orders")]

    def as_user(self, user_id: str | None = None) -> tuple[tuple[str, str], ...]:
        user_id = user_id or str(uuid.uuid4())
        token, _ = self.issuer.issue(user_id, f"{user_id[:8]}@example.com")
        return (("authorization", f"Bearer {token}"),)

    async def new_ticket(self, seller, price: str = "10") -> tickets_pb2.Ticket:
        request = tickets_pb2.CreateTicketRequest(
            title="Concert", price=price, currency_code="USD", idempotency_key=uuid.uuid4().hex
        )
        return (await self.tickets.CreateTicket(request, metadata=seller)).ticket

    async def order(self, ticket_id: str, buyer) -> orders_pb2.Order:
        request = orders_pb2.CreateOrderRequest(
            ticket_id=ticket_id, idempotency_key=uuid.uuid4().hex
        )
        return (await self.orders.CreateOrder(request, metadata=buyer)).order

    async def update(self, ticket_id: str, seller, price: str) -> tickets_pb2.Ticket:
        """At the version the seller reads now."""
        version = (await self.ticket(ticket_id)).version
        request = tickets_pb2.UpdateTicketRequest(
            id=ticket_id, title="Concert", price=price, expected_version=version
        )
        return (await self.tickets.UpdateTicket(request, metadata=seller)).ticket

    async def ticket(self, ticket_id: str) -> tickets_pb2.Ticket:
        return (await self.tickets.GetTicket(tickets_pb2.GetTicketRequest(id=ticket_id))).ticket

    async def held_ticket(self, ticket_id: str, order_id: str, timeout: float = 10):
        """The ticket once the tickets service has applied the order's hold."""
        for _ in range(int(timeout / 0.05)):
            ticket = await self.ticket(ticket_id)
            if ticket.order_id == order_id:
                return ticket
            await asyncio.sleep(0.05)
        raise AssertionError(f"ticket {ticket_id} never held by {order_id}: {ticket}")

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()
        await self.mongo.close()


@contextlib.asynccontextmanager
async def running(
    env: dict[str, str],
    names: Iterable[str] = SERVICES,
    deaf: Iterable[str] = (),
    stripe_api_base: str | None = None,
) -> AsyncIterator[Stack]:
    """`names` running, each knowing where the others listen; those in `deaf` hear no events."""
    ports = {name: servers.free_port() for name in SERVICES}
    env = {
        **env,
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
        "STRIPE_SECRET_KEY": "sk_test_local",
        "STRIPE_API_BASE": stripe_api_base or f"http://127.0.0.1:{servers.free_port()}",
        "STRIPE_TIMEOUT_SECONDS": "5",
    }
    started: list[ServiceProcess] = []
    stack = Stack(env, ports)
    try:
        for name in names:
            process = _bootstrap(name, env)
            if name in deaf:
                process.consumers.clear()
            await process.start("127.0.0.1", ports[name])
            started.append(process)
            await process.wait_consumers_ready()
        yield stack
    finally:
        await stack.close()
        for process in reversed(started):
            await process.stop()


async def refusal(call) -> tuple[grpc.StatusCode, ErrorCode]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), from_rpc_error(info.value).code


# -- one authority on holds ------------------------------------------------------------------


async def test_an_edit_racing_an_order_is_refused_or_carried_by_the_order(env):
    async with running(env, names=("tickets", "orders")) as stack:
        seller = stack.as_user()
        tickets = [await stack.new_ticket(seller, "10") for _ in range(20)]

        async def race(ticket_id: str):
            edit = stack.update(ticket_id, seller, "99")
            order = stack.order(ticket_id, stack.as_user())
            return await asyncio.gather(edit, order, return_exceptions=True)

        outcomes = await asyncio.gather(*(race(t.id) for t in tickets))

        for ticket, (edited, order) in zip(tickets, outcomes, strict=True):
            assert isinstance(order, orders_pb2.Order), order  # an edit never stops a buyer
            if isinstance(edited, grpc.aio.AioRpcError):
                assert from_rpc_error(edited).code is ErrorCode.CONFLICT, edited
            else:
                assert order.price == "99.00", (ticket.id, edited, order)
            sold = await stack.held_ticket(ticket.id, order.id)
            assert sold.price == order.price, (sold, order)


async def test_an_edit_under_an_order_is_a_conflict_and_after_its_cancellation_it_is_not(env):
    async with running(env, names=("tickets", "orders")) as stack:
        seller, buyer = stack.as_user(), stack.as_user()
        ticket = await stack.new_ticket(seller, "10")
        order = await stack.order(ticket.id, buyer)
        # Refused by the listing itself: the hold is already there.
        assert await refusal(stack.update(ticket.id, seller, "99")) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            ErrorCode.CONFLICT,
        )
        assert (await stack.ticket(ticket.id)).price == "10.00"
        assert await refusal(stack.update(ticket.id, stack.as_user(), "1")) == (
            grpc.StatusCode.PERMISSION_DENIED,
            ErrorCode.FORBIDDEN,
        )
        await stack.orders.CancelOrder(orders_pb2.CancelOrderRequest(id=order.id), metadata=buyer)
        # The seller reads the ticket once the release (OrderCancelled) has reached the tickets
        # service (the hold and the release each moved its version).
        for _ in range(200):
            if (await stack.ticket(ticket.id)).version == 2:
                break
            await asyncio.sleep(0.05)
        edited = await stack.update(ticket.id, seller, "12.5")
        assert edited.price == "12.50"
        again = await stack.order(ticket.id, stack.as_user())
        assert again.price == "12.50"


# -- orders keeps no copy of tickets; what has not arrived yet is read through -----------------


async def test_orders_hearing_no_ticket_event_places_orders_as_the_listing_decides(env):
    """Orders deaf (its queue never bound, as in a broker outage) changes nothing: it places
    orders on tickets it never heard of, at the price the listing has now, and the listing
    refuses what it must."""
    async with running(env, names=("tickets", "orders"), deaf=("orders",)) as stack:
        seller, buyer = stack.as_user(), stack.as_user()
        ticket = await stack.new_ticket(seller, "15")
        order = await stack.order(ticket.id, buyer)
        assert (order.status, order.price) == (orders_pb2.ORDER_STATUS_CREATED, "15.00")
        assert (await stack.held_ticket(ticket.id, order.id)).price == "15.00"
        assert await refusal(stack.order(ticket.id, stack.as_user())) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            ErrorCode.CONFLICT,
        )
        other = await stack.new_ticket(seller, "15")
        edited = await stack.update(other.id, seller, "30")
        assert (edited.version, edited.price) == (1, "30.00")
        assert (await stack.order(other.id, buyer)).price == "30.00"
        assert await refusal(stack.order(str(uuid.uuid4()), buyer)) == (
            grpc.StatusCode.NOT_FOUND,
            ErrorCode.NOT_FOUND,
        )
        # Orders has no collection of tickets any more.
        assert "tickets" not in await stack.orders_db.list_collection_names()


async def test_an_order_with_tickets_unreachable_is_unavailable_and_shown_to_no_one(env):
    """The order was committed before its seats were asked for: it stays pending (the expiry
    sweep ends it, or a retry with the same key carries on), never listed."""
    async with running(env, names=("orders",)) as stack:
        buyer = stack.as_user()
        assert await refusal(stack.order(str(uuid.uuid4()), buyer)) == (
            grpc.StatusCode.UNAVAILABLE,
            ErrorCode.UNAVAILABLE,
        )
        listed = await stack.orders.ListOrders(
            orders_pb2.ListOrdersRequest(include_total_count=True), metadata=buyer
        )
        assert (list(listed.orders), listed.total_count) == ([], 0)
        assert await stack.orders_db.orders.count_documents({"pending": True}) == 1


async def test_an_order_whose_creation_has_not_reached_payments_can_be_paid(env, stripe_api_base):
    async with running(env, deaf=("payments",), stripe_api_base=stripe_api_base) as stack:
        seller, buyer = stack.as_user(), stack.as_user()
        ticket = await stack.new_ticket(seller, "20.05")
        order = await stack.order(ticket.id, buyer)

        def pay(order_id: str, user):
            request = payments_pb2.CreatePaymentRequest(
                order_id=order_id, payment_method="pm_card_visa", idempotency_key=uuid.uuid4().hex
            )
            return stack.payments.CreatePayment(request, metadata=user)

        # Another user learns nothing about the order (orders shows each user only their own).
        assert await refusal(pay(order.id, stack.as_user())) == (
            grpc.StatusCode.NOT_FOUND,
            ErrorCode.NOT_FOUND,
        )
        payment = (await pay(order.id, buyer)).payment
        assert (payment.status, payment.amount, payment.order_id) == (
            "succeeded",
            "20.05",
            order.id,
        )
        assert await refusal(pay(str(uuid.uuid4()), buyer)) == (
            grpc.StatusCode.NOT_FOUND,
            ErrorCode.NOT_FOUND,
        )


async def test_an_unknown_order_with_orders_unreachable_is_unavailable(env, stripe_api_base):
    async with running(env, names=("payments",), stripe_api_base=stripe_api_base) as stack:
        request = payments_pb2.CreatePaymentRequest(
            order_id=str(uuid.uuid4()), payment_method="pm_card_visa", idempotency_key="k1"
        )
        assert await refusal(stack.payments.CreatePayment(request, metadata=stack.as_user())) == (
            grpc.StatusCode.UNAVAILABLE,
            ErrorCode.UNAVAILABLE,
        )
