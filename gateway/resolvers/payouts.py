"""Payouts: a seller's own, and every seller's for operators."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import UNSET

from common.pagination import DEFAULT_PAGE_SIZE
from gateway.context import Info
from gateway.cost import Cost
from gateway.paging import (
    After,
    Before,
    Last,
    check_keyset_cursor,
    first_argument,
    window,
)
from gateway.resolvers.shared import CONNECTION
from gateway.types.payouts import Payout, PayoutConnection, PayoutStatus
from ticketing.payments.v1 import payments_pb2

PAGING = (
    f"first/last 1-100, default {DEFAULT_PAGE_SIZE}; BAD_USER_INPUT (extensions.field) for a size "
    "out of range, a mix of forwards and backwards arguments, or a cursor that does not decode."
)


async def payouts_page(
    info: Info,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    *,
    all_sellers: bool = False,
    status: PayoutStatus | None = None,
) -> PayoutConnection:
    asked = window(info, first, after, last, before, default=DEFAULT_PAGE_SIZE)
    check_keyset_cursor(asked)
    request = payments_pb2.ListPayoutsRequest(
        page_size=asked.size,
        page_token=asked.after,
        before_page_token=asked.before,
        backward=asked.backward,
        all_sellers=all_sellers,
        status=status.value if status else "",
    )
    reply = await info.context.call(info.context.clients.payments.ListPayouts, request)
    return PayoutConnection.of(
        [Payout.from_proto(p) for p in reply.payouts],
        has_next=reply.has_next_page,
        has_previous=reply.has_previous_page,
    )


@strawberry.type
class PayoutQuery:
    @strawberry.field(
        description="The caller's payouts as a seller (what they are paid for each order sold), "
        f"newest first (then by id). {PAGING} UNAUTHENTICATED when signed out.",
        directives=[Cost(weight=1), CONNECTION],
    )
    async def payouts(
        self,
        info: Info,
        first: Annotated[int | None, first_argument(DEFAULT_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> PayoutConnection | None:
        await info.context.require_user()
        return await payouts_page(info, first, after, last, before)

    @strawberry.field(
        description="Every seller's payouts, newest first (then by id), of one status or all: "
        f"operators (admin role) only, FORBIDDEN otherwise. {PAGING} UNAUTHENTICATED when "
        "signed out.",
        directives=[Cost(weight=1), CONNECTION],
    )
    async def all_payouts(
        self,
        info: Info,
        status: Annotated[
            PayoutStatus | None,
            strawberry.argument(description="Only payouts of this status; null means all."),
        ] = None,
        first: Annotated[int | None, first_argument(DEFAULT_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> PayoutConnection | None:
        await info.context.require_admin()
        return await payouts_page(info, first, after, last, before, all_sellers=True, status=status)
