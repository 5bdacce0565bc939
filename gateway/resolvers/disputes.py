"""The operators' disputes: the list to review (`disputes`) and the evidence they submit
(`submitDisputeEvidence`), both from payments; the admin role is checked here and by payments."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import UNSET

from common.errors import InvalidInput
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.paging import After, Before, Last, check_keyset_cursor, first_argument, window
from gateway.resolvers.shared import CONNECTION, INPUT, MUTATION, user_errors_field
from gateway.types.common import UserError
from gateway.types.disputes import (
    EVIDENCE_NAMES,
    Dispute,
    DisputeConnection,
    DisputeEvidenceName,
    DisputeStatus,
)
from gateway.user_errors import expected_failures
from ticketing.payments.v1 import payments_pb2

DEFAULT_PAGE_SIZE = 20
MAX_EVIDENCE_CHARS = 20_000


@strawberry.input(description="One evidence field to set.")
class DisputeEvidenceInput:
    name: DisputeEvidenceName = strawberry.field(description="The processor's field.")
    value: str = strawberry.field(
        description=f"Its text, at most {MAX_EVIDENCE_CHARS} characters (BAD_USER_INPUT "
        "beyond); empty clears the field."
    )


@strawberry.input(description="Evidence an operator edited for a dispute, and whether to submit.")
class SubmitDisputeEvidenceInput:
    dispute_id: strawberry.ID = strawberry.field(
        description="The dispute's id; NOT_FOUND when unknown, CONFLICT when it is closed."
    )
    evidence: list[DisputeEvidenceInput] = strawberry.field(
        description=f"The fields changed (the others stay as staged or last saved); at most "
        f"{len(EVIDENCE_NAMES)}, one per name (BAD_USER_INPUT otherwise)."
    )
    submit: bool = strawberry.field(
        description="True: submitted to the card network (the dispute goes UNDER_REVIEW); "
        "false: saved only."
    )


@strawberry.type(description="The dispute with the evidence saved (and submitted).")
class SubmitDisputeEvidencePayload:
    dispute: Dispute | None = strawberry.field(description="The dispute; null when refused.")
    user_errors: list[UserError] = user_errors_field()


def _evidence(fields: list[DisputeEvidenceInput]) -> dict[str, str]:
    if len(fields) > len(EVIDENCE_NAMES):
        raise InvalidInput(f"At most {len(EVIDENCE_NAMES)} evidence fields", field="evidence")
    evidence: dict[str, str] = {}
    for item in fields:
        name = item.name.value
        if name in evidence:
            raise InvalidInput(f"Evidence {name} given twice", field="evidence")
        if len(item.value) > MAX_EVIDENCE_CHARS:
            raise InvalidInput(
                f"Evidence {name} is longer than {MAX_EVIDENCE_CHARS} characters",
                field="evidence",
            )
        evidence[name] = item.value
    return evidence


@strawberry.type
class DisputeQuery:
    @strawberry.field(
        description="Disputes of orders' payments, newest first (then by id), for operators. "
        f"first/last 1-100, default {DEFAULT_PAGE_SIZE}; BAD_USER_INPUT (extensions.field) for "
        "a size out of range, a mix of forwards and backwards arguments, or a cursor that does "
        "not decode. UNAUTHENTICATED when signed out, FORBIDDEN without the admin role.",
        directives=[Cost(weight=1), CONNECTION],
    )
    async def disputes(
        self,
        info: Info,
        status: Annotated[
            DisputeStatus | None,
            strawberry.argument(description="Only disputes in this status; null: all."),
        ] = None,
        first: Annotated[int | None, first_argument(DEFAULT_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> DisputeConnection | None:
        await info.context.require_admin()
        asked = window(info, first, after, last, before, default=DEFAULT_PAGE_SIZE)
        check_keyset_cursor(asked)
        request = payments_pb2.ListDisputesRequest(
            status=status.value if status else "",
            page_size=asked.size,
            page_token=asked.after,
            before_page_token=asked.before,
            backward=asked.backward,
        )
        reply = await info.context.call(info.context.clients.payments.ListDisputes, request)
        return DisputeConnection.of(
            [Dispute.from_proto(d) for d in reply.disputes],
            has_next=reply.has_next_page,
            has_previous=reply.has_previous_page,
        )


@strawberry.type
class DisputeMutation:
    @strawberry.mutation(
        description="Saves the evidence an operator edited on a dispute at the payment processor "
        "and, with submit, submits it (naturally idempotent: the same evidence again changes "
        "nothing). userErrors: BAD_USER_INPUT (evidence), NOT_FOUND, CONFLICT (closed). "
        "Top-level UNAUTHENTICATED when signed out, FORBIDDEN without the admin role, "
        "UNAVAILABLE when the processor cannot be reached (retry).",
        directives=MUTATION,
    )
    async def submit_dispute_evidence(
        self, info: Info, input: Annotated[SubmitDisputeEvidenceInput, INPUT]
    ) -> SubmitDisputeEvidencePayload | None:
        ctx = info.context
        await ctx.require_admin()
        with expected_failures(subject="disputeId") as outcome:
            request = payments_pb2.SubmitDisputeEvidenceRequest(
                dispute_id=global_ids.decode(input.dispute_id, "Dispute", field="disputeId"),
                evidence=_evidence(input.evidence),
                submit=input.submit,
            )
            reply = await ctx.call(ctx.clients.payments.SubmitDisputeEvidence, request)
            return SubmitDisputeEvidencePayload(
                dispute=Dispute.from_proto(reply.dispute), user_errors=[]
            )
        return SubmitDisputeEvidencePayload(dispute=None, user_errors=outcome.user_errors)
