"""Refunds: a buyer's request, an admin's refund and decision, and the admins' lists (refund
requests, cancelled events' refund runs). Payments holds them all and checks the admin role
itself; the gateway checks it first too, so a buyer is refused before any call."""

from __future__ import annotations

from typing import Annotated

import strawberry

from common.errors import InvalidInput
from common.money import parse_currency, parse_price, to_cents
from gateway import global_ids
from gateway.context import Info, require_admin
from gateway.cost import Cost
from gateway.resolvers.shared import IDEMPOTENCY_KEY, INPUT, MUTATION, user_errors_field
from gateway.types.common import MoneyInput, UserError, list_size
from gateway.types.refunds import Refund, RefundRun, RefundState
from gateway.user_errors import expected_failures
from ticketing.payments.v1 import payments_pb2

LIST_DEFAULT, LIST_MOST = 50, 200
REASON = "Why, 1-500 characters (BAD_USER_INPUT otherwise)."

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many, newest first: 1-{LIST_MOST} (BAD_USER_INPUT otherwise)."
    ),
]


def _size(first: int | None) -> int:
    if first is None:
        return LIST_DEFAULT
    if not 1 <= first <= LIST_MOST:
        raise InvalidInput(f"first must be 1 to {LIST_MOST}", field="first")
    return first


@strawberry.input(description="A refund the buyer asks for, of one of their paid orders.")
class RequestRefundInput:
    order_id: strawberry.ID = strawberry.field(
        description="The order's id; NOT_FOUND when unknown or another's; CONFLICT when the "
        "policy refuses (not paid, refunded already, its event started, a refund open)."
    )
    reason: str = strawberry.field(description=REASON)


@strawberry.type(description="The refund asked for.")
class RequestRefundPayload:
    refund: Refund | None = strawberry.field(
        description="The request, REQUESTED (the open one when asked again); null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="An admin's refund of a paid order, in full or in part.")
class RefundOrderInput:
    order_id: strawberry.ID = strawberry.field(
        description="The order's id; NOT_FOUND when unknown; CONFLICT when not paid, refunded "
        "in full already or a refund of it is open."
    )
    amount: MoneyInput | None = strawberry.field(
        default=None,
        description="How much to give back, in the order's currency, at most what is left "
        '(BAD_USER_INPUT on ["input", "amount"] otherwise); null: all that is left.',
    )
    reason: str = strawberry.field(description=REASON)
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY)


@strawberry.type(description="The refund made.")
class RefundOrderPayload:
    refund: Refund | None = strawberry.field(
        description="The refund: SUCCEEDED, or FAILED when the processor refused it; null when "
        "refused here."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="An admin's decision on a buyer's refund request.")
class DecideRefundRequestInput:
    refund_id: strawberry.ID = strawberry.field(
        description="The request's id; NOT_FOUND when unknown; CONFLICT when decided the other "
        "way already."
    )
    approve: bool = strawberry.field(
        description="true: the refund is made at once; false: declined."
    )
    reason: str | None = strawberry.field(
        default=None,
        description="Declining: why, told to the buyer (required then, 1-500 characters).",
    )


@strawberry.type(description="The request decided.")
class DecideRefundRequestPayload:
    refund: Refund | None = strawberry.field(
        description="The refund: SUCCEEDED (or FAILED) when approved, DECLINED when declined; "
        "null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type
class RefundQuery:
    @strawberry.field(
        description="Admins only: refunds of one state (REQUESTED by default: the buyers' "
        "requests to decide), newest first. Top-level FORBIDDEN for anyone else, "
        "UNAUTHENTICATED signed out.",
        directives=[Cost(weight=1), list_size(slicing_arguments=["first"])],
    )
    async def refund_requests(
        self,
        info: Info,
        state: Annotated[
            RefundState, strawberry.argument(description="Which ones; REQUESTED by default.")
        ] = RefundState.REQUESTED,
        first: First = LIST_DEFAULT,
    ) -> list[Refund] | None:
        await require_admin(info)
        request = payments_pb2.ListRefundsRequest(state=state.value, limit=_size(first))
        reply = await info.context.call(info.context.clients.payments.ListRefunds, request)
        return [Refund.from_proto(r) for r in reply.refunds]

    @strawberry.field(
        description="Admins only: cancelled events' refund runs with their progress, newest "
        "first. Top-level FORBIDDEN for anyone else, UNAUTHENTICATED signed out.",
        directives=[Cost(weight=1), list_size(slicing_arguments=["first"])],
    )
    async def refund_runs(self, info: Info, first: First = LIST_DEFAULT) -> list[RefundRun] | None:
        await require_admin(info)
        request = payments_pb2.ListRefundRunsRequest(limit=_size(first))
        reply = await info.context.call(info.context.clients.payments.ListRefundRuns, request)
        return [RefundRun.from_proto(r) for r in reply.runs]


@strawberry.type
class RefundMutation:
    @strawberry.mutation(
        description="Asks for a full refund of one of the caller's paid orders, for an admin "
        "to approve: before its event starts, or once the event is cancelled or rescheduled. "
        "Asking again while a request is open returns it. userErrors: BAD_USER_INPUT, "
        "NOT_FOUND, CONFLICT (with the reason). Top-level UNAUTHENTICATED when signed out.",
        directives=MUTATION,
    )
    async def request_refund(
        self, info: Info, input: Annotated[RequestRefundInput, INPUT]
    ) -> RequestRefundPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="orderId") as outcome:
            request = payments_pb2.RequestRefundRequest(
                order_id=global_ids.decode(input.order_id, "Order", field="orderId"),
                reason=input.reason,
            )
            reply = await ctx.call(ctx.clients.payments.RequestRefund, request)
            return RequestRefundPayload(refund=Refund.from_proto(reply.refund), user_errors=[])
        return RequestRefundPayload(refund=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="Admins only: refunds a paid order in full or in part; the seller's "
        "proceeds bear it first, the fees the rest. userErrors: BAD_USER_INPUT, NOT_FOUND, "
        "FORBIDDEN (not an admin), CONFLICT, IDEMPOTENCY_KEY_REUSED. Top-level UNAUTHENTICATED "
        "when signed out, UNAVAILABLE when the processor cannot be reached (retry with the "
        "same key).",
        directives=MUTATION,
    )
    async def refund_order(
        self, info: Info, input: Annotated[RefundOrderInput, INPUT]
    ) -> RefundOrderPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="orderId") as outcome:
            await require_admin(info)
            request = payments_pb2.RefundOrderRequest(
                order_id=global_ids.decode(input.order_id, "Order", field="orderId"),
                reason=input.reason,
                idempotency_key=input.idempotency_key,
            )
            if input.amount is not None:
                request.amount = to_cents(parse_price(input.amount.amount, field="amount"))
                request.currency_code = parse_currency(
                    input.amount.currency_code.value, field="amount"
                )
            reply = await ctx.call(
                ctx.clients.payments.RefundOrder, request, timeout=ctx.clients.payment_timeout
            )
            return RefundOrderPayload(refund=Refund.from_proto(reply.refund), user_errors=[])
        return RefundOrderPayload(refund=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="Admins only: approves a buyer's refund request (the refund is made at "
        "once) or declines it with a reason. The same decision again returns the refund. "
        "userErrors: BAD_USER_INPUT, NOT_FOUND, FORBIDDEN (not an admin), CONFLICT. Top-level "
        "UNAUTHENTICATED when signed out, UNAVAILABLE when the processor cannot be reached "
        "(deciding again makes it).",
        directives=MUTATION,
    )
    async def decide_refund_request(
        self, info: Info, input: Annotated[DecideRefundRequestInput, INPUT]
    ) -> DecideRefundRequestPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="refundId") as outcome:
            await require_admin(info)
            request = payments_pb2.DecideRefundRequestRequest(
                refund_id=global_ids.decode(input.refund_id, "Refund", field="refundId"),
                approve=input.approve,
                reason=input.reason or "",
            )
            reply = await ctx.call(
                ctx.clients.payments.DecideRefundRequest,
                request,
                timeout=ctx.clients.payment_timeout,
            )
            return DecideRefundRequestPayload(
                refund=Refund.from_proto(reply.refund), user_errors=[]
            )
        return DecideRefundRequestPayload(refund=None, user_errors=outcome.user_errors)
