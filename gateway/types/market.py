"""Tickets, orders and payments as GraphQL types, built from the services' messages."""

from __future__ import annotations

from decimal import Decimal as PyDecimal
from enum import Enum

import strawberry

from common.errors import Internal
from common.pagination import Cursor
from common.protos import from_timestamp
from gateway.context import Info
from gateway.types.scalars import DateTime, Decimal
from ticketing.orders.v1 import orders_pb2
from ticketing.payments.v1 import payments_pb2
from ticketing.tickets.v1 import tickets_pb2


@strawberry.type
class Ticket:
    id: strawberry.ID
    title: str
    price: Decimal
    user_id: strawberry.ID
    version: int
    order_id: strawberry.ID | None
    reserved: bool
    cursor: strawberry.Private[str]

    @classmethod
    def from_proto(cls, t: tickets_pb2.Ticket) -> Ticket:
        return cls(
            id=strawberry.ID(t.id),
            title=t.title,
            price=PyDecimal(t.price),
            user_id=strawberry.ID(t.user_id),
            version=t.version,
            order_id=strawberry.ID(t.order_id) if t.order_id else None,
            reserved=bool(t.order_id),
            cursor=Cursor(from_timestamp(t.create_time), t.id).encode(),
        )


@strawberry.enum
class OrderStatus(Enum):
    CREATED = "CREATED"
    CANCELLED = "CANCELLED"
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    COMPLETE = "COMPLETE"

    @classmethod
    def from_proto(cls, status: int) -> OrderStatus:
        return cls[orders_pb2.OrderStatus.Name(status).removeprefix("ORDER_STATUS_")]


@strawberry.enum(description="Why an order was cancelled.")
class CancelReason(Enum):
    CANCELLED_BY_USER = strawberry.enum_value("CANCELLED_BY_USER", description="The buyer did.")
    EXPIRED = strawberry.enum_value("EXPIRED", description="It was not paid in time.")
    PAYMENT_FAILED = strawberry.enum_value(
        "PAYMENT_FAILED", description="The payment was declined or failed."
    )

    @classmethod
    def from_proto(cls, reason: int) -> CancelReason | None:
        if reason == orders_pb2.CANCEL_REASON_UNSPECIFIED:
            return None
        return cls[orders_pb2.CancelReason.Name(reason).removeprefix("CANCEL_REASON_")]


@strawberry.enum(
    description="Where a payment stands; the final ones are SUCCEEDED, FAILED, REFUNDED."
)
class PaymentStatus(Enum):
    SUCCEEDED = "succeeded"
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"
    FAILED = "failed"
    REFUNDED = "refunded"


@strawberry.type
class Payment:
    id: strawberry.ID
    order_id: strawberry.ID
    stripe_id: str = strawberry.field(description="The Stripe PaymentIntent id (pi_...).")
    amount: Decimal
    status: PaymentStatus
    client_secret: str | None = strawberry.field(
        description="While status is REQUIRES_ACTION: what Stripe.js needs to authenticate."
    )

    @classmethod
    def from_proto(cls, p: payments_pb2.Payment) -> Payment:
        return cls(
            id=strawberry.ID(p.id),
            order_id=strawberry.ID(p.order_id),
            stripe_id=p.stripe_id,
            amount=PyDecimal(p.amount),
            status=PaymentStatus(p.status),
            client_secret=p.client_secret or None,
        )


@strawberry.type
class Order:
    id: strawberry.ID
    status: OrderStatus
    cancel_reason: CancelReason | None = strawberry.field(
        description="Why it is CANCELLED; null for any other status."
    )
    expires_at: DateTime
    user_id: strawberry.ID
    version: int
    ticket_id: strawberry.Private[str]
    cursor: strawberry.Private[str]

    @strawberry.field
    async def ticket(self, info: Info) -> Ticket:
        found = await info.context.tickets.load(self.ticket_id)
        if found is None:
            raise Internal(f"ticket {self.ticket_id} of order {self.id} not found")
        return Ticket.from_proto(found)

    @strawberry.field
    async def payment(self, info: Info) -> Payment | None:
        found = await info.context.payments.load(str(self.id))
        return Payment.from_proto(found) if found is not None else None

    @classmethod
    def from_proto(cls, o: orders_pb2.Order) -> Order:
        return cls(
            id=strawberry.ID(o.id),
            status=OrderStatus.from_proto(o.status),
            cancel_reason=CancelReason.from_proto(o.cancel_reason),
            expires_at=from_timestamp(o.expires_at),
            user_id=strawberry.ID(o.user_id),
            version=o.version,
            ticket_id=o.ticket_id,
            cursor=Cursor(from_timestamp(o.create_time), o.id).encode(),
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def of(cls, edges: list[TicketEdge] | list[OrderEdge], next_token: str) -> PageInfo:
        """The service says whether more follow; the last edge's cursor is where they start."""
        return cls(has_next_page=bool(next_token), end_cursor=edges[-1].cursor if edges else None)


@strawberry.type
class TicketEdge:
    cursor: str
    node: Ticket


@strawberry.type
class TicketConnection:
    edges: list[TicketEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, tickets: list[Ticket], next_token: str) -> TicketConnection:
        edges = [TicketEdge(cursor=t.cursor, node=t) for t in tickets]
        return cls(edges=edges, page_info=PageInfo.of(edges, next_token))


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, orders: list[Order], next_token: str) -> OrderConnection:
        edges = [OrderEdge(cursor=o.cursor, node=o) for o in orders]
        return cls(edges=edges, page_info=PageInfo.of(edges, next_token))
