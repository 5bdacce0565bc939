"""A seller's payouts as GraphQL types, built from the payments service's messages."""

from __future__ import annotations

from enum import Enum

import strawberry

from common.errors import Internal
from common.pagination import Cursor
from common.protos import from_timestamp
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.types.common import Money, Node, PageInfo
from gateway.types.events import Listing
from gateway.types.scalars import DateTime
from ticketing.payments.v1 import payments_pb2


@strawberry.enum(
    description="Where a payout stands; PAID, REVERSED and FAILED are final. New ones may be "
    "added: show an unknown one as pending."
)
class PayoutStatus(Enum):
    SCHEDULED = strawberry.enum_value(
        "SCHEDULED",
        description="Will be paid at dueAt (after the event ends); dueAt null: the event's "
        "end is not known yet, or it was postponed.",
    )
    WAITING_FOR_ONBOARDING = strawberry.enum_value(
        "WAITING_FOR_ONBOARDING",
        description="Waiting for the seller to set up payouts (their Stripe account); paid once "
        "they have, when due.",
    )
    HELD = strawberry.enum_value(
        "HELD", description="Held while the buyer disputes the charge: see reason."
    )
    PAID = strawberry.enum_value(
        "PAID", description="Transferred to the seller's Stripe account at paidAt."
    )
    REVERSED = strawberry.enum_value(
        "REVERSED", description="Taken back or never to be paid (a refund, a lost dispute)."
    )
    FAILED = strawberry.enum_value(
        "FAILED", description="Stripe refused the transfer for good: see reason."
    )


@strawberry.type(
    description="What a seller is paid for one sold order: its proceeds, transferred to their "
    "Stripe account once the event is over."
)
class Payout(Node):
    status: PayoutStatus = strawberry.field(description="Where it stands.")
    amount: Money = strawberry.field(
        description="The seller's proceeds of the order (less anything reversed)."
    )
    due_at: DateTime | None = strawberry.field(
        description="When it falls due (a delay after the event ends); null while that is not "
        "known (the event's end not known yet, postponed or cancelled)."
    )
    paid_at: DateTime | None = strawberry.field(
        description="When it was transferred; null unless PAID."
    )
    reason: str | None = strawberry.field(
        description="Why it is FAILED (Stripe's words), HELD or REVERSED; null otherwise."
    )
    created_at: DateTime = strawberry.field(description="When the order was paid.")
    raw_id: strawberry.Private[str]
    ticket_id: strawberry.Private[str]
    cursor: strawberry.Private[str]

    @strawberry.field(
        description="The listing whose seats were sold, as it is now. Null for an order paid "
        "before it was recorded, or with an UNAVAILABLE error when tickets cannot be reached. "
        "(The buyer's order itself is the buyer's: a seller does not read it.)",
        directives=[Cost(weight=1)],
    )
    async def listing(self, info: Info) -> Listing | None:
        if not self.ticket_id:
            return None
        found = await info.context.tickets.load(self.ticket_id)
        if found is None:
            raise Internal(f"listing {self.ticket_id} of payout {self.raw_id} not found")
        return Listing.from_proto(found)

    @classmethod
    def from_proto(cls, p: payments_pb2.Payout) -> Payout:
        created = from_timestamp(p.create_time)
        return cls(
            id=strawberry.ID(global_ids.encode("Payout", p.id)),
            raw_id=p.id,
            ticket_id=p.ticket_id,
            cursor=Cursor(created, p.id).encode(),
            status=PayoutStatus[p.status],
            amount=Money.of(p.amount, p.currency_code),
            due_at=from_timestamp(p.due_time) if p.HasField("due_time") else None,  # type: ignore[arg-type]
            paid_at=from_timestamp(p.paid_time) if p.HasField("paid_time") else None,  # type: ignore[arg-type]
            reason=p.reason or None,
            created_at=created,  # type: ignore[arg-type]
        )


@strawberry.type(description="A payout with its cursor.")
class PayoutEdge:
    cursor: str = strawberry.field(
        description="Opaque; pass it as after/before to the same field to page from here."
    )
    node: Payout | None = strawberry.field(description="The payout; null if it failed alone.")


@strawberry.type(description="A page of payouts, newest first (a Relay connection).")
class PayoutConnection:
    edges: list[PayoutEdge | None] = strawberry.field(
        description="The page's payouts with their cursors, newest first."
    )
    nodes: list[Payout | None] = strawberry.field(
        description="The page's payouts, as in edges, without cursors."
    )
    page_info: PageInfo = strawberry.field(description="Where this page stands.")

    @classmethod
    def of(cls, payouts: list[Payout], *, has_next: bool, has_previous: bool) -> PayoutConnection:
        return cls(
            edges=[PayoutEdge(cursor=p.cursor, node=p) for p in payouts],
            nodes=list(payouts),
            page_info=PageInfo.of(
                [p.cursor for p in payouts], has_next=has_next, has_previous=has_previous
            ),
        )
