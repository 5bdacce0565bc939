"""Orders and payments: the buyer's own, and the mutations that place, cancel and pay them."""

from __future__ import annotations

import logging
from typing import Annotated

import strawberry
from strawberry import UNSET

from common.errors import AppError, InvalidInput
from common.pagination import DEFAULT_PAGE_SIZE
from gateway import global_ids
from gateway.context import Context, Info
from gateway.cost import Cost
from gateway.paging import (
    After,
    Before,
    Last,
    check_keyset_cursor,
    first_argument,
    selects,
    window,
)
from gateway.resolvers.shared import CONNECTION, IDEMPOTENCY_KEY, INPUT, MUTATION, user_errors_field
from gateway.types.common import UserError
from gateway.types.orders import Order, OrderConnection, Payment
from gateway.user_errors import expected_failures
from ticketing.orders.v1 import orders_pb2
from ticketing.payments.v1 import payments_pb2

log = logging.getLogger(__name__)


@strawberry.input(
    description="Seats to hold for the caller: a listing and how many (or a v1 ticket). Exactly "
    "one of listingId and ticketId (BAD_USER_INPUT otherwise)."
)
class CreateOrderInput:
    ticket_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A v1 ticket's id (one seat); NOT_FOUND when unknown, FORBIDDEN when the "
        "caller's own, CONFLICT when not FOR_SALE.",
    )
    listing_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The listing's id; NOT_FOUND when unknown, FORBIDDEN when the caller's own, "
        "CONFLICT when not enough seats are for sale, the split rule refuses the quantity "
        "(field quantity: see Listing.allowedQuantities) or the event is not on sale.",
    )
    quantity: int = strawberry.field(
        default=1, description="Seats, 1 to 100 (with listingId; a v1 ticket is one)."
    )
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY)


@strawberry.type(description="The order placed.")
class CreateOrderPayload:
    order: Order | None = strawberry.field(
        description="The order, CREATED, holding the ticket; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="One of the caller's unpaid orders to cancel.")
class CancelOrderInput:
    id: strawberry.ID = strawberry.field(
        description="The order's id; NOT_FOUND when unknown or another's, CONFLICT when paid."
    )


@strawberry.type(description="The order cancelled.")
class CancelOrderPayload:
    order: Order | None = strawberry.field(
        description="The order, CANCELLED (an order already CANCELLED is returned as it is); "
        "null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="A card payment of one of the caller's orders.")
class CreatePaymentInput:
    order_id: strawberry.ID = strawberry.field(
        description="The order's id; NOT_FOUND when unknown or another's, CONFLICT when "
        "cancelled, paid or being paid."
    )
    payment_method: str = strawberry.field(
        description="A Stripe PaymentMethod id (pm_...); PAYMENT_DECLINED when the card is "
        "declined."
    )
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY)


@strawberry.type(description="The payment made.")
class CreatePaymentPayload:
    payment: Payment | None = strawberry.field(
        description="The payment (SUCCEEDED, or REQUIRES_ACTION with a clientSecret); null "
        "when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type
class OrderQuery:
    @strawberry.field(
        description="One of the caller's orders; null with NOT_FOUND for anyone else's, an "
        "unknown one or an id that does not decode. UNAUTHENTICATED when signed out.",
        directives=[Cost(weight=1)],
    )
    async def order(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The order's id.")],
    ) -> Order | None:
        await info.context.require_user()
        raw_id = global_ids.decode(id, "Order")
        reply = await info.context.call(
            info.context.clients.orders.GetOrder, orders_pb2.GetOrderRequest(id=raw_id)
        )
        return Order.from_proto(reply.order)

    @strawberry.field(
        description="The caller's orders, newest first (then by id). first/last 1-100, default "
        f"{DEFAULT_PAGE_SIZE}; BAD_USER_INPUT (extensions.field) for a size out of range, a mix "
        "of forwards and backwards arguments, or a cursor that does not decode. "
        "UNAUTHENTICATED when signed out.",
        directives=[Cost(weight=1), CONNECTION],
    )
    async def orders(
        self,
        info: Info,
        first: Annotated[int | None, first_argument(DEFAULT_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> OrderConnection | None:
        asked = window(info, first, after, last, before, default=DEFAULT_PAGE_SIZE)
        check_keyset_cursor(asked)
        request = orders_pb2.ListOrdersRequest(
            page_size=asked.size,
            page_token=asked.after,
            before_page_token=asked.before,
            backward=asked.backward,
            include_total_count=selects(info, "totalCount"),
        )
        reply = await info.context.call(info.context.clients.orders.ListOrders, request)
        has_next = reply.has_next_page or (not asked.backward and bool(reply.next_page_token))
        return OrderConnection.of(
            [Order.from_proto(o) for o in reply.orders],
            has_next=has_next,
            has_previous=reply.has_previous_page,
            total_count=reply.total_count,
        )


def _ordered(input: CreateOrderInput) -> str:
    """The raw id of what is ordered: a listing's, or a v1 ticket's (the same record)."""
    if bool(input.ticket_id) == bool(input.listing_id):
        raise InvalidInput("Give a listingId or a ticketId", field="listingId")
    if input.ticket_id:
        if input.quantity != 1:
            raise InvalidInput("A ticket is one seat: order a listing for more", field="quantity")
        return global_ids.decode(input.ticket_id, "Ticket", field="ticketId")
    if not 1 <= input.quantity <= 100:
        raise InvalidInput("Quantity must be 1 to 100", field="quantity")
    return global_ids.decode(input.listing_id, "Listing", field="listingId")


async def _refresh_held(ctx: Context, reply: orders_pb2.CreateOrderResponse) -> None:
    """The order's seats are held now, in the tickets service; the gateway's cache hears of it
    only from the TicketUpdated on its way. The ticket as tickets answered the hold (relayed by
    orders), or else read from tickets itself, goes into this answer (`order { ticket { state }
    }` says HELD) and, written into the cache, into every read after it (DOM-2). Failing that
    read fails nothing: the order is placed, the event will follow."""
    ticket_id = reply.order.ticket_id
    if reply.HasField("held_ticket"):
        await ctx.ticket_reads.heard(reply.held_ticket)
        ctx.tickets.prime(ticket_id, reply.held_ticket)
        return
    try:
        ctx.tickets.prime(ticket_id, await ctx.ticket_reads.fresh(ticket_id))
    except AppError as exc:
        log.warning(
            "could not read a ticket just held", extra={"ticket_id": ticket_id, "error": exc}
        )


@strawberry.type
class OrderMutation:
    @strawberry.mutation(
        description="Holds a FOR_SALE ticket for the caller for 15 minutes. userErrors: "
        "BAD_USER_INPUT, NOT_FOUND, FORBIDDEN (own ticket), CONFLICT (held, sold or withdrawn), "
        "IDEMPOTENCY_KEY_REUSED. Top-level UNAUTHENTICATED when signed out.",
        directives=MUTATION,
    )
    async def create_order(
        self, info: Info, input: Annotated[CreateOrderInput, INPUT]
    ) -> CreateOrderPayload | None:
        ctx = info.context
        await ctx.require_user()
        subject = "listingId" if input.listing_id else "ticketId"
        with expected_failures(subject=subject) as outcome:
            ticket_id = _ordered(input)
            # Recorded before its outcome: the funnel counts the attempt, the orders service's
            # OrderCreated the success.
            await ctx.behaviour.order_started(ticket_id)
            request = orders_pb2.CreateOrderRequest(
                ticket_id=ticket_id,
                idempotency_key=input.idempotency_key,
                quantity=input.quantity,
            )
            reply = await ctx.call(ctx.clients.orders.CreateOrder, request)
            await _refresh_held(ctx, reply)
            return CreateOrderPayload(order=Order.from_proto(reply.order), user_errors=[])
        return CreateOrderPayload(order=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="Cancels one of the caller's unpaid orders, releasing its ticket; an order "
        "already CANCELLED is returned as it is. userErrors: NOT_FOUND, CONFLICT (paid). "
        "Top-level UNAUTHENTICATED when signed out.",
        directives=MUTATION,
    )
    async def cancel_order(
        self, info: Info, input: Annotated[CancelOrderInput, INPUT]
    ) -> CancelOrderPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="id") as outcome:
            request = orders_pb2.CancelOrderRequest(
                id=global_ids.decode(input.id, "Order", field="id")
            )
            reply = await ctx.call(ctx.clients.orders.CancelOrder, request)
            return CancelOrderPayload(order=Order.from_proto(reply.order), user_errors=[])
        return CancelOrderPayload(order=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="Pays one of the caller's orders by card, in the order's currency. "
        "userErrors: BAD_USER_INPUT, NOT_FOUND, CONFLICT (cancelled, paid or being paid), "
        "PAYMENT_DECLINED (the order is CANCELLED, its ticket FOR_SALE again), "
        "IDEMPOTENCY_KEY_REUSED. Top-level UNAUTHENTICATED when signed out, UNAVAILABLE when "
        "the processor cannot be reached (retry with the same key).",
        directives=MUTATION,
    )
    async def create_payment(
        self, info: Info, input: Annotated[CreatePaymentInput, INPUT]
    ) -> CreatePaymentPayload | None:
        ctx = info.context
        await ctx.require_user()
        clients = ctx.clients
        with expected_failures(subject="orderId") as outcome:
            request = payments_pb2.CreatePaymentRequest(
                order_id=global_ids.decode(input.order_id, "Order", field="orderId"),
                payment_method=input.payment_method,
                idempotency_key=input.idempotency_key,
            )
            reply = await ctx.call(
                clients.payments.CreatePayment, request, timeout=clients.payment_timeout
            )
            return CreatePaymentPayload(payment=Payment.from_proto(reply.payment), user_errors=[])
        return CreatePaymentPayload(payment=None, user_errors=outcome.user_errors)
