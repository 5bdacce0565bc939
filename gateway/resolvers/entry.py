"""Entry at an event's doors (issue 22, README "Ticket codes"): operators grant and revoke the
scanner role per event; a scanner scans codes online (`scanTicket`), or downloads the event's
offline kit (`offlineKit`), decides alone and syncs its admissions later (`syncAdmissions`). All
from the delivery service, the one authority on passes and admissions."""

from __future__ import annotations

from typing import Annotated, TypeVar

import strawberry

from common.errors import InvalidInput
from common.protos import timestamp
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.resolvers.shared import INPUT, MUTATION, user_errors_field
from gateway.types.common import UserError, list_size
from gateway.types.entry import DoubleAdmission, ScanResult
from gateway.types.events import Event
from gateway.types.scalars import DateTime
from gateway.types.user import User
from gateway.user_errors import expected_failures
from ticketing.delivery.v1 import delivery_pb2

MAX_GATE_CHARS = 64
MAX_CODE_CHARS = 512
MAX_ADMISSIONS = 1000
TYPICAL_EVENTS = 5
SCANNER_ERRORS = (
    "userErrors: BAD_USER_INPUT (the field named), NOT_FOUND (eventId), FORBIDDEN (eventId: "
    "not a scanner of the event). Top-level UNAUTHENTICATED when signed out."
)


def _event_id(value: strawberry.ID, field: str = "eventId") -> str:
    return global_ids.decode(value, "Event", field=field)


def _gate(value: str, field: str = "gate") -> str:
    gate = value.strip()
    if not gate or len(gate) > MAX_GATE_CHARS:
        raise InvalidInput(f"A gate's name is 1 to {MAX_GATE_CHARS} characters", field=field)
    return gate


def _code(value: str, field: str = "code") -> str:
    code = value.strip()
    if not code or len(code) > MAX_CODE_CHARS:
        raise InvalidInput(f"A code is 1 to {MAX_CODE_CHARS} characters", field=field)
    return code


@strawberry.input(description="An operator grants or revokes the scanner role at one event.")
class ScannerInput:
    event_id: strawberry.ID = strawberry.field(description="The event (an Event's id).")
    user_id: strawberry.ID = strawberry.field(description="The user (a User's id).")


@strawberry.input(description="An operator lets a user scan tickets at one event.")
class GrantScannerInput(ScannerInput):
    pass


@strawberry.input(description="An operator takes the scanner role at one event back.")
class RevokeScannerInput(ScannerInput):
    pass


@strawberry.type(description="The scanner granted or revoked.")
class ScannerPayload:
    scanner: User | None = strawberry.field(description="The user; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The user now a scanner of the event.")
class GrantScannerPayload(ScannerPayload):
    pass


@strawberry.type(description="The user no longer a scanner of the event.")
class RevokeScannerPayload(ScannerPayload):
    pass


@strawberry.input(description="A code read at the doors.")
class ScanTicketInput:
    event_id: strawberry.ID = strawberry.field(description="The event scanned for.")
    code: str = strawberry.field(
        description=f"The code as read (QR or typed), 1 to {MAX_CODE_CHARS} characters."
    )
    gate: str = strawberry.field(
        description=f"Where (a gate's name), 1 to {MAX_GATE_CHARS} characters."
    )


@strawberry.type(description="What the scan decided.")
class ScanTicketPayload:
    result: ScanResult | None = strawberry.field(description="The decision; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="An admission a scanner made offline.")
class OfflineAdmissionInput:
    id: str = strawberry.field(
        description="The scanner's own id for it (a UUID): sent again, it records nothing new."
    )
    code: str = strawberry.field(description="The code admitted.")
    admitted_at: DateTime = strawberry.field(description="When.")
    gate: str = strawberry.field(description=f"Where (a gate's name), 1 to {MAX_GATE_CHARS}.")


@strawberry.input(description="A scanner's offline admissions for one event.")
class SyncAdmissionsInput:
    event_id: strawberry.ID = strawberry.field(description="The event.")
    admissions: list[OfflineAdmissionInput] = strawberry.field(
        description=f"At most {MAX_ADMISSIONS} (BAD_USER_INPUT beyond)."
    )


@strawberry.type(description="What a sync recorded and found.")
class SyncAdmissionsPayload:
    recorded: int = strawberry.field(description="How many of the admissions sent were new.")
    double_admissions: list[DoubleAdmission] = strawberry.field(
        description="The double admissions this sync found (the earliest admission of a pass "
        "is its entry).",
        directives=[list_size(assumed_size=20)],
    )
    rejected_ids: list[str] = strawberry.field(
        description="The admissions refused (their code did not verify), by id.",
        directives=[list_size(assumed_size=20)],
    )
    user_errors: list[UserError] = user_errors_field()


Payload = TypeVar("Payload", bound=ScannerPayload)


@strawberry.type
class EntryQuery:
    @strawberry.field(
        description="The events the caller may scan tickets at (soonest first is not "
        "promised); events the catalogue no longer has are left out. UNAUTHENTICATED when "
        "signed out.",
        directives=[Cost(weight=1), list_size(assumed_size=TYPICAL_EVENTS)],
    )
    async def my_scanner_events(self, info: Info) -> list[Event] | None:
        ctx = info.context
        reply = await ctx.call(
            ctx.clients.delivery.ListMyScannerEvents, delivery_pb2.ListMyScannerEventsRequest()
        )
        found = await ctx.events.load_many(list(reply.event_ids))
        return [Event.from_proto(e) for e in found if e is not None]

    @strawberry.field(
        description='What a scanner needs to decide alone (README "Ticket codes", '
        '"Verifying offline"): the event\'s kit as a JSON text with event_id, as_of, keys (the '
        "JWK Set), revoked ([{pass_id, valid_from}]) and admissions ([{pass_id, at, gate}]). "
        "The event's scanners only: FORBIDDEN otherwise; NOT_FOUND for an unknown event; "
        "BAD_USER_INPUT for an id that is not an Event's.",
        directives=[Cost(weight=1)],
    )
    async def offline_kit(
        self,
        info: Info,
        event_id: Annotated[strawberry.ID, strawberry.argument(description="The event.")],
    ) -> str | None:
        ctx = info.context
        await ctx.require_user()
        request = delivery_pb2.GetOfflineKitRequest(event_id=_event_id(event_id))
        reply = await ctx.call(ctx.clients.delivery.GetOfflineKit, request)
        return str(reply.kit_json)


@strawberry.type
class EntryMutation:
    @strawberry.mutation(
        description="An operator lets a user scan tickets at an event's doors (idempotent). "
        "userErrors: BAD_USER_INPUT, NOT_FOUND (eventId, userId), FORBIDDEN (not an admin). "
        "Top-level UNAUTHENTICATED when signed out.",
        directives=MUTATION,
    )
    async def grant_scanner(
        self, info: Info, input: Annotated[GrantScannerInput, INPUT]
    ) -> GrantScannerPayload | None:
        return await _scanner_change(info, input, GrantScannerPayload, grant=True)

    @strawberry.mutation(
        description="An operator takes the scanner role at an event back (idempotent). "
        "userErrors as grantScanner.",
        directives=MUTATION,
    )
    async def revoke_scanner(
        self, info: Info, input: Annotated[RevokeScannerInput, INPUT]
    ) -> RevokeScannerPayload | None:
        return await _scanner_change(info, input, RevokeScannerPayload, grant=False)

    @strawberry.mutation(
        description="A scanner of the event scans a code at a gate: VALID records the entry, "
        f"any other outcome records nothing. {SCANNER_ERRORS}",
        directives=MUTATION,
    )
    async def scan_ticket(
        self, info: Info, input: Annotated[ScanTicketInput, INPUT]
    ) -> ScanTicketPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="eventId") as outcome:
            request = delivery_pb2.ScanRequest(
                event_id=_event_id(input.event_id),
                code=_code(input.code),
                gate=_gate(input.gate),
            )
            reply = await ctx.call(ctx.clients.delivery.Scan, request)
            return ScanTicketPayload(result=ScanResult.from_proto(reply), user_errors=[])
        return ScanTicketPayload(result=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="A scanner sends the admissions it made offline; each is recorded once "
        "(by its id: a retried sync records nothing new), and two admissions of one pass are "
        f"reported. {SCANNER_ERRORS}",
        directives=MUTATION,
    )
    async def sync_admissions(
        self, info: Info, input: Annotated[SyncAdmissionsInput, INPUT]
    ) -> SyncAdmissionsPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="eventId") as outcome:
            if len(input.admissions) > MAX_ADMISSIONS:
                raise InvalidInput(f"At most {MAX_ADMISSIONS} admissions", field="admissions")
            request = delivery_pb2.SyncAdmissionsRequest(
                event_id=_event_id(input.event_id),
                admissions=[
                    delivery_pb2.OfflineAdmission(
                        id=a.id.strip(),
                        code=_code(a.code, "admissions"),
                        admitted_at=timestamp(a.admitted_at),
                        gate=_gate(a.gate, "admissions"),
                    )
                    for a in input.admissions
                ],
            )
            reply = await ctx.call(ctx.clients.delivery.SyncAdmissions, request)
            return SyncAdmissionsPayload(
                recorded=reply.recorded,
                double_admissions=[DoubleAdmission.from_proto(d) for d in reply.double_admissions],
                rejected_ids=list(reply.rejected_ids),
                user_errors=[],
            )
        return SyncAdmissionsPayload(
            recorded=0, double_admissions=[], rejected_ids=[], user_errors=outcome.user_errors
        )


async def _scanner_change(
    info: Info, input: ScannerInput, payload: type[Payload], *, grant: bool
) -> Payload:
    ctx = info.context
    await ctx.require_user()
    with expected_failures(subject="eventId") as outcome:
        await ctx.require_admin()
        event_id = _event_id(input.event_id)
        user_id = global_ids.decode(input.user_id, "User", field="userId")
        if grant:
            await ctx.call(
                ctx.clients.delivery.GrantScanner,
                delivery_pb2.GrantScannerRequest(event_id=event_id, user_id=user_id),
            )
        else:
            await ctx.call(
                ctx.clients.delivery.RevokeScanner,
                delivery_pb2.RevokeScannerRequest(event_id=event_id, user_id=user_id),
            )
        return payload(scanner=User.of(user_id), user_errors=[])
    return payload(scanner=None, user_errors=outcome.user_errors)
