"""Passes (issue 22): the caller's passes (`myPasses`), the transfers offered to them
(`incomingTransfers`), and a holder's transfer by e-mail (`offerPassTransfer`,
`withdrawPassTransfer`, `acceptPassTransfer`), all from the delivery service. A pass's PDF is
served over HTTP (gateway/pass_files.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import UNSET

from common.errors import InvalidInput
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.paging import After, Before, Last, first_argument, window
from gateway.resolvers.shared import CONNECTION, INPUT, MUTATION, user_errors_field
from gateway.types.common import PageInfo, UserError, list_size
from gateway.types.passes import IncomingTransfer, Pass, PassConnection
from gateway.user_errors import expected_failures
from ticketing.delivery.v1 import delivery_pb2

DEFAULT_PAGE_SIZE = 20
MAX_EMAIL_CHARS = 254
TYPICAL_OFFERS = 4
ERRORS = (
    "userErrors: NOT_FOUND (passId: unknown, or not the caller's to act on), CONFLICT "
    "(passId: its state does not allow it, e.g. listed for resale, offered already, used for "
    "entry or its event started; expectedVersion: it changed since it was read). Top-level "
    "UNAUTHENTICATED when signed out."
)


@strawberry.input(description="The holder offers a pass to another account by e-mail.")
class OfferPassTransferInput:
    pass_id: strawberry.ID = strawberry.field(description="The pass, held by the caller.")
    to_email: str = strawberry.field(
        description="The recipient's account e-mail (BAD_USER_INPUT when malformed, or the "
        "caller's own). They accept it with acceptPassTransfer once signed in with it."
    )
    expected_version: int = strawberry.field(
        description="The pass's version the holder saw (CONFLICT if it changed since)."
    )


@strawberry.input(description="The holder withdraws an offer not accepted yet.")
class WithdrawPassTransferInput:
    pass_id: strawberry.ID = strawberry.field(description="The pass offered.")


@strawberry.input(description="The recipient accepts a pass offered to their e-mail address.")
class AcceptPassTransferInput:
    pass_id: strawberry.ID = strawberry.field(
        description="The pass offered (IncomingTransfer.passId)."
    )


@strawberry.type(description="The pass, offered.")
class OfferPassTransferPayload:
    pass_: Pass | None = strawberry.field(
        name="pass",
        description="The pass as it is now (TRANSFER_OFFERED); null when refused.",
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The pass, its offer withdrawn.")
class WithdrawPassTransferPayload:
    pass_: Pass | None = strawberry.field(
        name="pass",
        description="The pass as it is now (ACTIVE again); null when refused.",
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The pass, re-issued to the caller.")
class AcceptPassTransferPayload:
    pass_: Pass | None = strawberry.field(
        name="pass",
        description="The pass as it is now: the caller's, with its new code; null when refused.",
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type
class PassQuery:
    @strawberry.field(
        description="The passes the caller holds now, soonest event first; with eventId, that "
        f"event's only. Forwards only: first 1-100, default {DEFAULT_PAGE_SIZE}; BAD_USER_INPUT "
        "(extensions.field) for a size out of range, last/before, or a cursor that does not "
        "decode; NOT_FOUND for an eventId that is not an Event's. UNAUTHENTICATED when signed "
        "out.",
        directives=[Cost(weight=1), CONNECTION],
    )
    async def my_passes(
        self,
        info: Info,
        event_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this event's passes; null: every event's."),
        ] = None,
        first: Annotated[int | None, first_argument(DEFAULT_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> PassConnection | None:
        ctx = info.context
        await ctx.require_user()
        asked = window(info, first, after, last, before, default=DEFAULT_PAGE_SIZE)
        if asked.backward:
            raise InvalidInput("Passes are paged forwards only (first/after)", field="last")
        request = delivery_pb2.ListMyPassesRequest(
            event_id=global_ids.decode(event_id, "Event", field="eventId") if event_id else "",
            page_size=asked.size,
            page_token=asked.after,
        )
        reply = await ctx.call(ctx.clients.delivery.ListMyPasses, request)
        nodes: list[Pass | None] = [Pass.from_proto(p) for p in reply.passes]
        return PassConnection(
            nodes=nodes,
            page_info=PageInfo.forwards(asked.after, reply.next_page_token),
        )

    @strawberry.field(
        description="The passes offered to the caller's e-mail address (their session's) and "
        "not accepted or withdrawn yet, to accept with acceptPassTransfer. UNAUTHENTICATED when "
        "signed out.",
        directives=[Cost(weight=1), list_size(assumed_size=TYPICAL_OFFERS)],
    )
    async def incoming_transfers(self, info: Info) -> list[IncomingTransfer] | None:
        ctx = info.context
        await ctx.require_user()
        reply = await ctx.call(
            ctx.clients.delivery.ListIncomingTransfers,
            delivery_pb2.ListIncomingTransfersRequest(),
        )
        return [IncomingTransfer.from_proto(t) for t in reply.transfers]


def _pass_id(value: strawberry.ID) -> str:
    return global_ids.decode(value, "Pass", field="passId")


@strawberry.type
class PassMutation:
    @strawberry.mutation(
        description="The holder offers a pass to another account by e-mail: it is "
        "TRANSFER_OFFERED until the recipient accepts it (then re-issued to them with a new "
        "code, and the holder's code revoked) or the holder withdraws it; the holder's code "
        f"stays valid until then. BAD_USER_INPUT (toEmail). {ERRORS}",
        directives=MUTATION,
    )
    async def offer_pass_transfer(
        self, info: Info, input: Annotated[OfferPassTransferInput, INPUT]
    ) -> OfferPassTransferPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="passId") as outcome:
            email = input.to_email.strip()
            if not email or len(email) > MAX_EMAIL_CHARS or "@" not in email:
                raise InvalidInput("Enter the recipient's e-mail address", field="to_email")
            request = delivery_pb2.OfferPassTransferRequest(
                pass_id=_pass_id(input.pass_id),
                to_email=email,
                expected_version=input.expected_version,
            )
            reply = await ctx.call(ctx.clients.delivery.OfferPassTransfer, request)
            return OfferPassTransferPayload(
                pass_=Pass.from_proto(getattr(reply, "pass")), user_errors=[]
            )
        return OfferPassTransferPayload(pass_=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description=f"The holder withdraws an offer not accepted yet: the pass is ACTIVE again. "
        f"{ERRORS}",
        directives=MUTATION,
    )
    async def withdraw_pass_transfer(
        self, info: Info, input: Annotated[WithdrawPassTransferInput, INPUT]
    ) -> WithdrawPassTransferPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="passId") as outcome:
            request = delivery_pb2.WithdrawPassTransferRequest(pass_id=_pass_id(input.pass_id))
            reply = await ctx.call(ctx.clients.delivery.WithdrawPassTransfer, request)
            return WithdrawPassTransferPayload(
                pass_=Pass.from_proto(getattr(reply, "pass")), user_errors=[]
            )
        return WithdrawPassTransferPayload(pass_=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="The recipient accepts a pass offered to their e-mail address: it is "
        "re-issued to them (serial + 1, a new code) and the previous holder's code is revoked. "
        "Accepting again what the caller accepted already answers the pass as it is. "
        f"{ERRORS}",
        directives=MUTATION,
    )
    async def accept_pass_transfer(
        self, info: Info, input: Annotated[AcceptPassTransferInput, INPUT]
    ) -> AcceptPassTransferPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="passId") as outcome:
            request = delivery_pb2.AcceptPassTransferRequest(pass_id=_pass_id(input.pass_id))
            reply = await ctx.call(ctx.clients.delivery.AcceptPassTransfer, request)
            return AcceptPassTransferPayload(
                pass_=Pass.from_proto(getattr(reply, "pass")), user_errors=[]
            )
        return AcceptPassTransferPayload(pass_=None, user_errors=outcome.user_errors)
