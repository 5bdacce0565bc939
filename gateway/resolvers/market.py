"""Tickets, orders and payments: each resolver is one gRPC call on the caller's behalf."""

from __future__ import annotations

from typing import Annotated

import strawberry

from common.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, first_or_default
from gateway.context import Info
from gateway.types.market import (
    Order,
    OrderConnection,
    Payment,
    Ticket,
    TicketConnection,
)
from gateway.types.scalars import Decimal
from ticketing.orders.v1 import orders_pb2
from ticketing.payments.v1 import payments_pb2
from ticketing.tickets.v1 import tickets_pb2

# Every connection takes the same `first`: Int = 20, 1 to MAX_PAGE_SIZE; null means the default.
PageSize = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many: 1 to {MAX_PAGE_SIZE}; null means {DEFAULT_PAGE_SIZE}."
    ),
]


def _price(value: object) -> str:
    return format(value, "f")  # Decimal("1E+3") -> "1000", never scientific notation


@strawberry.type
class MarketQuery:
    @strawberry.field(description="A ticket by id; NOT_FOUND for an unknown one.")
    async def ticket(self, info: Info, id: strawberry.ID) -> Ticket | None:
        ticket = await info.context.ticket_reads.get(id)
        await info.context.behaviour.ticket_viewed(ticket.id)
        return Ticket.from_proto(ticket)

    @strawberry.field(description="Tickets for sale, newest first; reserved ones on request.")
    async def tickets(
        self,
        info: Info,
        first: PageSize = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        include_reserved: bool | None = False,
    ) -> TicketConnection:
        size = first_or_default(first)
        found, next_token = await info.context.ticket_reads.page(
            size, after or "", include_reserved=bool(include_reserved)
        )
        await info.context.behaviour.tickets_browsed(
            first=size,
            after=after or "",
            include_reserved=bool(include_reserved),
            ticket_ids=[t.id for t in found],
        )
        return TicketConnection.of([Ticket.from_proto(t) for t in found], next_token)

    @strawberry.field(description="One of the caller's orders; NOT_FOUND for anyone else's.")
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        reply = await info.context.call(
            info.context.clients.orders.GetOrder, orders_pb2.GetOrderRequest(id=id)
        )
        return Order.from_proto(reply.order)

    @strawberry.field(description="The caller's orders, newest first.")
    async def orders(
        self, info: Info, first: PageSize = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> OrderConnection:
        request = orders_pb2.ListOrdersRequest(
            page_size=first_or_default(first), page_token=after or ""
        )
        reply = await info.context.call(info.context.clients.orders.ListOrders, request)
        return OrderConnection.of(
            [Order.from_proto(o) for o in reply.orders], reply.next_page_token
        )


@strawberry.type
class MarketMutation:
    @strawberry.mutation(description="Lists a ticket for sale by the caller.")
    async def create_ticket(self, info: Info, title: str, price: Decimal) -> Ticket:
        request = tickets_pb2.CreateTicketRequest(title=title, price=_price(price))
        reply = await info.context.call(info.context.clients.tickets.CreateTicket, request)
        await info.context.ticket_reads.wrote(reply.ticket)  # the caller's next read shows it
        return Ticket.from_proto(reply.ticket)

    @strawberry.mutation(description="The seller changes a ticket that no order holds.")
    async def update_ticket(
        self, info: Info, id: strawberry.ID, title: str, price: Decimal
    ) -> Ticket:
        request = tickets_pb2.UpdateTicketRequest(id=id, title=title, price=_price(price))
        reply = await info.context.call(info.context.clients.tickets.UpdateTicket, request)
        await info.context.ticket_reads.wrote(reply.ticket)  # the caller's next read shows it
        return Ticket.from_proto(reply.ticket)

    @strawberry.mutation(description="Holds a ticket for the caller for 15 minutes.")
    async def create_order(self, info: Info, ticket_id: strawberry.ID) -> Order:
        await info.context.require_user()
        # Recorded before its outcome: the funnel counts the attempt, the orders service's
        # OrderCreated the success.
        await info.context.behaviour.order_started(ticket_id)
        request = orders_pb2.CreateOrderRequest(ticket_id=ticket_id)
        reply = await info.context.call(info.context.clients.orders.CreateOrder, request)
        return Order.from_proto(reply.order)

    @strawberry.mutation(description="Cancels one of the caller's unpaid orders.")
    async def cancel_order(self, info: Info, id: strawberry.ID) -> Order:
        request = orders_pb2.CancelOrderRequest(id=id)
        reply = await info.context.call(info.context.clients.orders.CancelOrder, request)
        return Order.from_proto(reply.order)

    @strawberry.mutation(description="Pays an order by card (a Stripe PaymentMethod id).")
    async def create_payment(
        self, info: Info, order_id: strawberry.ID, payment_method: str
    ) -> Payment:
        request = payments_pb2.CreatePaymentRequest(
            order_id=order_id, payment_method=payment_method
        )
        clients = info.context.clients
        reply = await info.context.call(
            clients.payments.CreatePayment, request, timeout=clients.payment_timeout
        )
        return Payment.from_proto(reply.payment)
