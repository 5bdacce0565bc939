"""An event's own fees (docs/design/money.md section 3): operators set them on the catalogue's
event; payments, which computes every fee, applies them to the event's all-in prices and new
orders."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway import global_ids
from gateway.context import Info
from gateway.resolvers.events import EVENT_ID, EXPECTED_VERSION
from gateway.resolvers.shared import INPUT, MUTATION, user_errors_field
from gateway.types.common import MoneyInput, UserError, plain_amount
from gateway.types.events import Event
from gateway.user_errors import expected_failures
from ticketing.catalogue.v1 import catalogue_pb2 as pb


@strawberry.input(
    description="An event's own fees from now on, in place of the standard ones for its all-in "
    "prices and new orders (orders placed before keep theirs). Each part optional: one null "
    "(or a currency not named) is the standard fee; all null clears them."
)
class SetEventFeesInput:
    id: strawberry.ID = strawberry.field(description=EVENT_ID)
    expected_version: int = strawberry.field(description=EXPECTED_VERSION)
    buyer_fee_percent: str | None = strawberry.field(
        default=None,
        description='The buyer\'s fee per ticket as a percent of its price: "0" to "100", at '
        'most 4 decimals (e.g. "7.5"); BAD_USER_INPUT otherwise.',
    )
    buyer_fee_fixed: list[MoneyInput] | None = strawberry.field(
        default=None,
        description="The buyer's fixed fee per ticket, at most one per currency: 0 to 1000 with "
        "at most the currency's minor digits; BAD_USER_INPUT otherwise.",
    )
    seller_commission_percent: str | None = strawberry.field(
        default=None,
        description="What the platform keeps of the price, as a percent of it (as "
        "buyerFeePercent).",
    )

    def to_proto(self) -> pb.FeeOverride:
        return pb.FeeOverride(
            buyer_fee_percent=self.buyer_fee_percent or "",
            buyer_fee_fixed=[
                pb.FixedFee(amount=plain_amount(f.amount), currency_code=f.currency_code.value)
                for f in self.buyer_fee_fixed or ()
            ],
            seller_commission_percent=self.seller_commission_percent or "",
        )


@strawberry.type(description="The event with its new fees.")
class SetEventFeesPayload:
    event: Event | None = strawberry.field(description="The event; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type
class EventFeesMutation:
    @strawberry.mutation(
        description="An operator sets an event's own fees (all parts null: clears them). "
        "userErrors: BAD_USER_INPUT (the part named), NOT_FOUND, FORBIDDEN (not an admin), "
        "CONFLICT (stale expectedVersion; a cancelled event). Top-level UNAUTHENTICATED when "
        "signed out.",
        directives=MUTATION,
    )
    async def set_event_fees(
        self, info: Info, input: Annotated[SetEventFeesInput, INPUT]
    ) -> SetEventFeesPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="id") as outcome:
            await ctx.require_admin()
            request = pb.SetEventFeesRequest(
                id=global_ids.decode(input.id, "Event", field="id"),
                fee_override=input.to_proto(),
                expected_version=input.expected_version,
            )
            reply = await ctx.call(ctx.clients.catalogue.SetEventFees, request)
            return SetEventFeesPayload(event=Event.from_proto(reply.event), user_errors=[])
        return SetEventFeesPayload(event=None, user_errors=outcome.user_errors)
