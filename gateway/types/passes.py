"""Passes as GraphQL types (issue 22): a delivered seat's platform code (docs/design/delivery.md
§4, README "Ticket codes"), from the delivery service, the one authority on passes and their
transfers. The gateway shows what the service answers: a pass's code only reaches its holder."""

from __future__ import annotations

from enum import Enum

import strawberry

from common.errors import NotFound
from common.protos import from_timestamp
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.types.common import Node, PageInfo
from gateway.types.events import Event
from gateway.types.scalars import DateTime
from ticketing.delivery.v1 import delivery_pb2

# Where a holder downloads a pass as a PDF (GET, with their token as for /graphql).
PDF_PATH = "/api/passes"


@strawberry.enum(description="Where a pass stands. New values may be added (read as null).")
class PassState(Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="Valid: its code admits its holder.")
    TRANSFER_OFFERED = strawberry.enum_value(
        "TRANSFER_OFFERED",
        description="Offered to another account (offeredToEmail), not accepted yet: the "
        "holder's code stays valid until then.",
    )
    LISTED_FOR_RESALE = strawberry.enum_value(
        "LISTED_FOR_RESALE", description="Listed for resale by its holder."
    )
    VOID = strawberry.enum_value("VOID", description="No longer valid (its order was refunded).")

    @classmethod
    def from_proto(cls, value: int) -> PassState | None:
        if value == delivery_pb2.PASS_STATE_UNSPECIFIED:
            return None
        try:
            name = delivery_pb2.PassState.Name(value)
        except ValueError:
            return None
        return cls.__members__.get(name.removeprefix("PASS_STATE_"))


def _time(message: object, name: str) -> DateTime | None:
    if not message.HasField(name):  # type: ignore[attr-defined]
        return None
    return from_timestamp(getattr(message, name))  # type: ignore[no-any-return]


async def _event(info: Info, event_id: str) -> Event | None:
    if not event_id:
        return None
    # Batched: a page of passes asks the catalogue once (BatchGetEvents) for their events.
    event = await info.context.events.load(event_id)
    if event is None:
        raise NotFound("Event not found")
    return Event.from_proto(event)


@strawberry.type(
    description="A delivered seat's platform code: one per seat, issued to the buyer when the "
    "delivery completes, re-issued (serial + 1, a new code) to whoever accepts a transfer. "
    "Shown to its holder, the order's buyer and seller (no code but the holder's) and operators."
)
class Pass(Node):
    seat_label: str | None = strawberry.field(
        description="The seat's label; null when the seats are not numbered."
    )
    seat: int = strawberry.field(description="The seat's index (from 0) in its order.")
    serial: int = strawberry.field(
        description="The issue serial: 1 for the buyer, + 1 at every re-issue (a transfer)."
    )
    state: PassState | None = strawberry.field(
        description="Where it stands; null for a state this API does not know yet."
    )
    code: str | None = strawberry.field(
        description='The signed code to show at the doors (README "Ticket codes"), e.g. as a '
        "QR code: for its holder only, while ACTIVE or TRANSFER_OFFERED; null otherwise."
    )
    offered_to_email: str | None = strawberry.field(
        description="TRANSFER_OFFERED: the address it is offered to (its holder sees it); null "
        "otherwise."
    )
    issued_at: DateTime | None = strawberry.field(
        description="When this serial was issued to its holder."
    )
    entered_at: DateTime | None = strawberry.field(
        description="When it was admitted at the event's doors; null until it is."
    )
    version: int = strawberry.field(
        description="Grows by one on every change; what offerPassTransfer takes as expectedVersion."
    )
    pdf_url: str | None = strawberry.field(
        description="Where its holder downloads it as a PDF with its QR code (GET, with the "
        "caller's token as for /graphql); null when the caller has no code for it."
    )
    order_ref: strawberry.ID = strawberry.field(
        description="The global id of the order its seat was bought with: node(id:) shows it "
        "to the order's buyer (a holder who received it by a transfer gets NOT_FOUND)."
    )
    raw_id: strawberry.Private[str]
    event_id: strawberry.Private[str]

    @strawberry.field(
        description="The event it admits to; null with a NOT_FOUND error when the catalogue "
        "no longer has it.",
        directives=[Cost(weight=1)],
    )
    async def event(self, info: Info) -> Event | None:
        return await _event(info, self.event_id)

    @classmethod
    def from_proto(cls, p: delivery_pb2.Pass) -> Pass:
        return cls(
            id=strawberry.ID(global_ids.encode("Pass", p.id)),
            seat_label=p.seat_label or None,
            seat=p.seat,
            serial=p.serial,
            state=PassState.from_proto(p.state),
            code=p.code or None,
            offered_to_email=p.offered_to_email or None,
            issued_at=_time(p, "issued_at"),
            entered_at=_time(p, "entered_at"),
            version=p.version,
            pdf_url=f"{PDF_PATH}/{global_ids.encode('Pass', p.id)}.pdf" if p.code else None,
            order_ref=strawberry.ID(global_ids.encode("Order", p.order_id)),
            raw_id=p.id,
            event_id=p.event_id,
        )


@strawberry.type(
    description="A page of the caller's passes, soonest event first, forwards only: pass "
    "pageInfo.endCursor as `after` for the next page."
)
class PassConnection:
    nodes: list[Pass | None] = strawberry.field(description="The page's passes.")
    page_info: PageInfo = strawberry.field(
        description="Where this page stands: endCursor is the next page's `after` (null on the "
        "last page); startCursor is always null."
    )


@strawberry.type(
    description="A pass offered to the caller's e-mail address, not accepted yet: what the "
    "recipient may see of it (no code)."
)
class IncomingTransfer:
    pass_id: strawberry.ID = strawberry.field(
        description="The pass's id: what acceptPassTransfer takes."
    )
    seat_label: str | None = strawberry.field(
        description="The seat's label; null when the seats are not numbered."
    )
    offered_at: DateTime | None = strawberry.field(description="When it was offered.")
    event_id: strawberry.Private[str]

    @strawberry.field(
        description="The event it admits to; null with a NOT_FOUND error when the catalogue "
        "no longer has it.",
        directives=[Cost(weight=1)],
    )
    async def event(self, info: Info) -> Event | None:
        return await _event(info, self.event_id)

    @classmethod
    def from_proto(cls, t: delivery_pb2.IncomingTransfer) -> IncomingTransfer:
        return cls(
            pass_id=strawberry.ID(global_ids.encode("Pass", t.pass_id)),
            seat_label=t.seat_label or None,
            offered_at=_time(t, "offered_at"),
            event_id=t.event_id,
        )
