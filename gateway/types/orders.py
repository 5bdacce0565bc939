"""Orders and payments as GraphQL types, built from the orders and payments services' messages."""

from __future__ import annotations

from enum import Enum

import strawberry

from common.errors import Internal
from common.pagination import Cursor
from common.protos import from_timestamp
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.types.common import Money, Node, PageInfo, list_size
from gateway.types.deliveries import TYPICAL_SEATS, Delivery
from gateway.types.disputes import DisputeStatus, dispute_status
from gateway.types.events import Listing
from gateway.types.fees import OrderCharges
from gateway.types.passes import Pass
from gateway.types.refunds import Refund
from gateway.types.scalars import DateTime
from gateway.types.tickets import Ticket
from gateway.types.user import User
from ticketing.orders.v1 import orders_pb2
from ticketing.payments.v1 import payments_pb2


@strawberry.enum(description="Where an order stands; COMPLETE and CANCELLED are final.")
class OrderStatus(Enum):
    CREATED = strawberry.enum_value("CREATED", description="Holds the ticket, waiting for payment.")
    CANCELLED = strawberry.enum_value(
        "CANCELLED", description="Released the ticket: see cancelReason."
    )
    AWAITING_PAYMENT = strawberry.enum_value(
        "AWAITING_PAYMENT",
        description="A payment is being processed (e.g. the buyer must authenticate).",
    )
    COMPLETE = strawberry.enum_value("COMPLETE", description="Paid: the ticket is SOLD.")

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
    EVENT_CALLED_OFF = strawberry.enum_value(
        "EVENT_CALLED_OFF", description="Its event was cancelled or postponed before it was paid."
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
    SUCCEEDED = strawberry.enum_value("succeeded", description="Charged: the order is COMPLETE.")
    PROCESSING = strawberry.enum_value("processing", description="The processor is on it.")
    REQUIRES_ACTION = strawberry.enum_value(
        "requires_action", description="The buyer must authenticate: see clientSecret."
    )
    FAILED = strawberry.enum_value("failed", description="Declined or failed; nothing charged.")
    REFUNDED = strawberry.enum_value("refunded", description="Charged, then paid back.")


@strawberry.type(description="A charge of an order, by card.")
class Payment(Node):
    status: PaymentStatus = strawberry.field(description="Where the charge stands.")
    amount: Money = strawberry.field(
        description="What is charged: the order's total, fees included (Order.charges.total)."
    )
    client_secret: str | None = strawberry.field(
        description="While status is REQUIRES_ACTION: what Stripe.js needs to authenticate; "
        "null otherwise."
    )
    created_at: DateTime = strawberry.field(description="When the charge was made.")
    dispute_status: DisputeStatus | None = strawberry.field(
        description="Where the cardholder's dispute of this charge stands (a chargeback: the "
        "order is disputed); null when it is not disputed."
    )
    raw_id: strawberry.Private[str]
    order_id: strawberry.Private[str]

    @strawberry.field(
        description="The order it pays. Null with an error when orders cannot be reached.",
        directives=[Cost(weight=1)],
    )
    async def order(self, info: Info) -> Order | None:
        reply = await info.context.call(
            info.context.clients.orders.GetOrder, orders_pb2.GetOrderRequest(id=self.order_id)
        )
        return Order.from_proto(reply.order)

    @classmethod
    def from_proto(cls, p: payments_pb2.Payment) -> Payment:
        return cls(
            id=strawberry.ID(global_ids.encode("Payment", p.id)),
            raw_id=p.id,
            order_id=p.order_id,
            amount=Money.of(p.amount, p.currency_code),
            status=PaymentStatus(p.status),
            client_secret=p.client_secret or None,
            created_at=from_timestamp(p.create_time),  # type: ignore[arg-type]
            dispute_status=dispute_status(p.dispute_status),
        )


@strawberry.type(description="A buyer's hold on a ticket until it is paid, cancelled or expired.")
class Order(Node):
    status: OrderStatus = strawberry.field(description="Where it stands.")
    cancel_reason: CancelReason | None = strawberry.field(
        description="Why it is CANCELLED; null for any other status (and for orders cancelled "
        "before reasons were recorded)."
    )
    price: Money = strawberry.field(
        description="What the buyer pays per ticket: the listing's price when the order was placed."
    )
    quantity: int = strawberry.field(description="Tickets ordered (1 for a v1 order).")
    total: Money = strawberry.field(
        description="The tickets' prices together (price x quantity), before fees.",
        deprecation_reason="Use `charges.subtotal` (the same amount) or `charges.total` (what "
        "the buyer is charged, fees included).",
    )
    seats: list[str] = strawberry.field(
        description="The seats' numbers, when the listing's seats are numbered; else empty.",
        directives=[list_size(assumed_size=10)],
    )
    expires_at: DateTime = strawberry.field(
        description="When it is cancelled (EXPIRED) unless paid by then."
    )
    created_at: DateTime = strawberry.field(description="When it was placed.")
    version: int = strawberry.field(description="Grows by one on every change.")
    raw_id: strawberry.Private[str]
    buyer_id: strawberry.Private[str]
    ticket_id: strawberry.Private[str]
    cursor: strawberry.Private[str]

    @strawberry.field(description="Who placed it (a public profile); never null today.")
    def buyer(self) -> User | None:
        return User.of(self.buyer_id)

    @strawberry.field(
        description="The ticket it holds (or held), as it is now. Null with an UNAVAILABLE error "
        "when tickets cannot be reached: the order itself stands.",
        directives=[Cost(weight=1)],
    )
    async def ticket(self, info: Info) -> Ticket | None:
        found = await info.context.tickets.load(self.ticket_id)
        if found is None:
            raise Internal(f"ticket {self.ticket_id} of order {self.raw_id} not found")
        return Ticket.from_proto(found)

    @strawberry.field(
        description="The listing its seats are of, as it is now (the same record as ticket). "
        "Null with an UNAVAILABLE error when tickets cannot be reached.",
        directives=[Cost(weight=1)],
    )
    async def listing(self, info: Info) -> Listing | None:
        found = await info.context.tickets.load(self.ticket_id)
        if found is None:
            raise Internal(f"listing {self.ticket_id} of order {self.raw_id} not found")
        return Listing.from_proto(found)

    @strawberry.field(
        description="What it charges: subtotal, the buyer's fees and the total, fixed when it "
        "was placed. Null with an UNAVAILABLE error when payments cannot be reached.",
        directives=[Cost(weight=1)],
    )
    async def charges(self, info: Info) -> OrderCharges | None:
        found = await info.context.order_charges.load(self.raw_id)
        if found is None:
            raise Internal(f"payments knows no charges of order {self.raw_id}")
        return OrderCharges.from_proto(found)

    @strawberry.field(
        description="Its payment; null when none was made yet (or with an error when payments "
        "cannot be reached).",
        directives=[Cost(weight=1)],
    )
    async def payment(self, info: Info) -> Payment | None:
        found = await info.context.payments.load(self.raw_id)
        return Payment.from_proto(found) if found is not None else None

    @strawberry.field(
        description="Its refunds (asked for, made, declined or failed), oldest first; empty "
        "when none. From payments, which holds them: the order's status stays COMPLETE. Null "
        "with an error when payments cannot be reached.",
        directives=[Cost(weight=1), list_size(assumed_size=2)],
    )
    async def refunds(self, info: Info) -> list[Refund] | None:
        found = await info.context.refunds.load(self.raw_id)
        return [
            Refund.from_proto(r) for r in sorted(found, key=lambda r: r.create_time.ToDatetime())
        ]

    @strawberry.field(
        description="How its seats reach the buyer, and whether they did (issue 22); null "
        "when the delivery service has none for it (an order placed before deliveries), or with "
        "an UNAVAILABLE error when it cannot be reached.",
        directives=[Cost(weight=1)],
    )
    async def delivery(self, info: Info) -> Delivery | None:
        found = await info.context.deliveries.load(self.raw_id)
        return Delivery.from_proto(found) if found is not None else None

    @strawberry.field(
        description="The passes issued for its seats (one per seat, once delivered; empty "
        "before): its buyer sees their own codes, its seller none. Null when the delivery "
        "service shows the caller none of them, or with an UNAVAILABLE error when it cannot be "
        "reached. A page of orders asks for theirs at once.",
        directives=[Cost(weight=1), list_size(assumed_size=TYPICAL_SEATS)],
    )
    async def passes(self, info: Info) -> list[Pass] | None:
        found = await info.context.order_passes.load(self.raw_id)
        return None if found is None else [Pass.from_proto(p) for p in found]

    @classmethod
    def from_proto(cls, o: orders_pb2.Order) -> Order:
        return cls(
            id=strawberry.ID(global_ids.encode("Order", o.id)),
            raw_id=o.id,
            status=OrderStatus.from_proto(o.status),
            cancel_reason=CancelReason.from_proto(o.cancel_reason),
            price=Money.of(o.price, o.currency_code),
            quantity=o.quantity or 1,
            total=Money.of(o.total or o.price, o.currency_code),
            seats=list(o.seat_labels),
            expires_at=from_timestamp(o.expires_at),  # type: ignore[arg-type]
            created_at=from_timestamp(o.create_time),  # type: ignore[arg-type]
            buyer_id=o.user_id,
            version=o.version,
            ticket_id=o.ticket_id,
            cursor=Cursor(from_timestamp(o.create_time), o.id).encode(),
        )


@strawberry.type(description="An order of a page, and where it is in the connection.")
class OrderEdge:
    cursor: str = strawberry.field(
        description="Opaque; pass it as after/before to `orders` to page from here."
    )
    node: Order | None = strawberry.field(description="The order; null if it failed alone.")


@strawberry.type(description="A page of the caller's orders (a Relay connection).")
class OrderConnection:
    edges: list[OrderEdge | None] = strawberry.field(
        description="The page's orders with their cursors, newest first."
    )
    nodes: list[Order | None] = strawberry.field(
        description="The page's orders, as in edges, without cursors."
    )
    page_info: PageInfo = strawberry.field(description="Where this page stands.")
    count: strawberry.Private[int]

    @strawberry.field(
        description="All the caller's orders, on every page (counted on orders' index, only "
        "when selected).",
        directives=[Cost(weight=1)],
    )
    def total_count(self) -> int:
        return self.count

    @classmethod
    def of(
        cls, orders: list[Order], *, has_next: bool, has_previous: bool, total_count: int
    ) -> OrderConnection:
        return cls(
            edges=[OrderEdge(cursor=o.cursor, node=o) for o in orders],
            nodes=list(orders),
            page_info=PageInfo.of(
                [o.cursor for o in orders], has_next=has_next, has_previous=has_previous
            ),
            count=total_count,
        )
