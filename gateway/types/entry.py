"""Entry at an event's doors as GraphQL types (issue 22), from the delivery service's messages
(the one authority on passes, scanners and admissions): a scan's outcome, a double admission,
and the event fields that read them (`Event.scanners`, `Event.doubleAdmissions`)."""

from __future__ import annotations

from enum import Enum
from typing import Protocol

import strawberry

from common.protos import from_timestamp
from gateway.context import Info
from gateway.cost import Cost
from gateway.types.common import list_size
from gateway.types.scalars import DateTime
from gateway.types.user import User
from ticketing.delivery.v1 import delivery_pb2


class _Event(Protocol):
    raw_id: str


TYPICAL_SCANNERS = 20
TYPICAL_DOUBLES = 20


@strawberry.enum(
    description='What a scan decided (README "Ticket codes"). New values may be added (read '
    "as null)."
)
class ScanOutcome(Enum):
    VALID = strawberry.enum_value(
        "VALID", description="The first scan of a valid code: the entry is recorded. Admit."
    )
    ALREADY_SCANNED = strawberry.enum_value(
        "ALREADY_SCANNED",
        description="The pass was admitted before: admittedAt and gate say when and where.",
    )
    REVOKED = strawberry.enum_value(
        "REVOKED", description="An earlier issue of a pass that was re-issued or voided."
    )
    WRONG_EVENT = strawberry.enum_value("WRONG_EVENT", description="A valid code of another event.")
    INVALID_SIGNATURE = strawberry.enum_value(
        "INVALID_SIGNATURE",
        description="Not a code the platform signed (malformed, unknown or retired key, bad "
        "signature).",
    )

    @classmethod
    def from_proto(cls, value: int) -> ScanOutcome | None:
        try:
            name = delivery_pb2.ScanOutcome.Name(value)
        except ValueError:
            return None
        return cls.__members__.get(name.removeprefix("SCAN_OUTCOME_"))


@strawberry.type(description="What a scan at the doors decided.")
class ScanResult:
    outcome: ScanOutcome | None = strawberry.field(
        description="The decision; null for one this API does not know yet (refuse entry)."
    )
    pass_id: str | None = strawberry.field(
        description="The pass the code is of (the delivery service's id); null when the code "
        "did not verify."
    )
    seat: str | None = strawberry.field(description="The pass's seat label; null when unnumbered.")
    admitted_at: DateTime | None = strawberry.field(
        description="VALID: this admission; ALREADY_SCANNED: the earlier one; else null."
    )
    gate: str | None = strawberry.field(
        description="The gate of the admission admittedAt is of; null with it."
    )

    @classmethod
    def from_proto(cls, r: delivery_pb2.ScanResponse) -> ScanResult:
        admitted = r.HasField("admitted_at")
        return cls(
            outcome=ScanOutcome.from_proto(r.outcome),
            pass_id=r.pass_id or None,
            seat=r.seat_label or None,
            admitted_at=from_timestamp(r.admitted_at) if admitted else None,  # type: ignore[arg-type]
            gate=(r.gate or None) if admitted else None,
        )


@strawberry.type(
    description="Two admissions of one pass (scanners that admitted it offline): the entry (the "
    "earliest) and the other."
)
class DoubleAdmission:
    pass_id: str = strawberry.field(description="The pass admitted twice.")
    entry_admission_id: str = strawberry.field(description="The entry's admission id.")
    entry_at: DateTime | None = strawberry.field(description="When the entry was admitted.")
    entry_gate: str = strawberry.field(description="At which gate.")
    other_admission_id: str = strawberry.field(description="The other admission's id.")
    other_at: DateTime | None = strawberry.field(description="When it was admitted.")
    other_gate: str = strawberry.field(description="At which gate.")

    @classmethod
    def from_proto(cls, d: delivery_pb2.DoubleAdmission) -> DoubleAdmission:
        return cls(
            pass_id=d.pass_id,
            entry_admission_id=d.entry_admission_id,
            entry_at=from_timestamp(d.entry_at) if d.HasField("entry_at") else None,  # type: ignore[arg-type]
            entry_gate=d.entry_gate,
            other_admission_id=d.other_admission_id,
            other_at=from_timestamp(d.other_at) if d.HasField("other_at") else None,  # type: ignore[arg-type]
            other_gate=d.other_gate,
        )


async def event_scanners(root: _Event, info: Info) -> list[User] | None:
    ctx = info.context
    await ctx.require_admin()
    request = delivery_pb2.ListScannersRequest(event_id=root.raw_id)
    reply = await ctx.call(ctx.clients.delivery.ListScanners, request)
    return [User.of(u) for u in reply.user_ids]


async def event_double_admissions(root: _Event, info: Info) -> list[DoubleAdmission] | None:
    ctx = info.context
    request = delivery_pb2.ListDoubleAdmissionsRequest(event_id=root.raw_id)
    reply = await ctx.call(ctx.clients.delivery.ListDoubleAdmissions, request)
    return [DoubleAdmission.from_proto(d) for d in reply.double_admissions]


SCANNERS_FIELD = {
    "description": "Who may scan tickets at its doors (grantScanner). Operators only: "
    "FORBIDDEN for anyone else, UNAUTHENTICATED signed out.",
    "directives": [Cost(weight=1), list_size(assumed_size=TYPICAL_SCANNERS)],
}
DOUBLES_FIELD = {
    "description": "Passes admitted twice (offline scanners, reported when they synced), the "
    "entry and the other admission each. Operators and the event's scanners: FORBIDDEN for "
    "anyone else, UNAUTHENTICATED signed out.",
    "directives": [Cost(weight=1), list_size(assumed_size=TYPICAL_DOUBLES)],
}
