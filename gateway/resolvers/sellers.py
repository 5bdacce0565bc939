"""A seller's payout set-up: startSellerOnboarding opens their account at the payment processor
(once) and answers the processor's onboarding page to send them to (payments'
StartSellerOnboarding). Where they stand is `currentUser.sellerAccount` (gateway/types/user.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.context import Info
from gateway.resolvers.shared import INPUT, MUTATION, user_errors_field
from gateway.types.common import UserError
from gateway.types.sellers import SellerAccount
from gateway.user_errors import expected_failures
from ticketing.payments.v1 import payments_pb2


@strawberry.input(description="Where the seller comes back to after the processor's onboarding.")
class StartSellerOnboardingInput:
    return_path: str | None = strawberry.field(
        default=None,
        description="A path of this site (e.g. /payouts), starting with one /, at most 200 "
        "characters (BAD_USER_INPUT otherwise); the seller comes back to it with "
        "?onboarding=return when done, ?onboarding=refresh when the link expired (start "
        "again). Absent: the seller page.",
    )


@strawberry.type(description="The seller's account, and the onboarding page to send them to.")
class StartSellerOnboardingPayload:
    onboarding_url: str | None = strawberry.field(
        description="The processor's onboarding page for the seller: send them there at once "
        "(it expires within minutes; never store it). Null when refused."
    )
    seller_account: SellerAccount | None = strawberry.field(
        description="Where the seller stands now; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type
class SellerMutation:
    @strawberry.mutation(
        description="Sets up the caller's payouts: opens their account at the payment "
        "processor the first time (never a second one: naturally idempotent, a repeat answers "
        "a fresh page for the same account) and answers its onboarding page. userErrors: "
        "BAD_USER_INPUT (returnPath), CONFLICT (an earlier attempt with another email has not "
        "finished: try later). Top-level UNAUTHENTICATED when signed out, UNAVAILABLE when the "
        "processor cannot be reached (retry).",
        directives=MUTATION,
    )
    async def start_seller_onboarding(
        self, info: Info, input: Annotated[StartSellerOnboardingInput, INPUT]
    ) -> StartSellerOnboardingPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures() as outcome:
            request = payments_pb2.StartSellerOnboardingRequest(return_path=input.return_path or "")
            reply = await ctx.call(ctx.clients.payments.StartSellerOnboarding, request)
            return StartSellerOnboardingPayload(
                onboarding_url=reply.onboarding_url,
                seller_account=SellerAccount.from_proto(reply.seller_account),
                user_errors=[],
            )
        return StartSellerOnboardingPayload(
            onboarding_url=None, seller_account=None, user_errors=outcome.user_errors
        )
