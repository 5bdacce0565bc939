"""Tickets as GraphQL types, built from the tickets service's messages (state included: tickets is
the one authority on availability)."""

from __future__ import annotations

from enum import Enum

import strawberry

from common.pagination import Cursor
from common.protos import from_timestamp
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.types.common import Money, Node, PageInfo
from gateway.types.fees import all_in_price
from gateway.types.scalars import DateTime
from gateway.types.user import User
from ticketing.tickets.v1 import tickets_pb2


@strawberry.enum(
    description="Where a ticket stands, as the tickets service (the authority on availability) "
    "says. New values may be added: show an unknown one as unavailable."
)
class TicketState(Enum):
    FOR_SALE = strawberry.enum_value("FOR_SALE", description="Listed; no open order holds it.")
    HELD = strawberry.enum_value(
        "HELD", description="An order holds it, CREATED or AWAITING_PAYMENT."
    )
    SOLD = strawberry.enum_value("SOLD", description="The order holding it is COMPLETE (final).")
    WITHDRAWN = strawberry.enum_value(
        "WITHDRAWN", description="The seller took it off sale (final)."
    )

    @classmethod
    def from_proto(cls, state: int) -> TicketState | None:
        if state == tickets_pb2.TICKET_STATE_UNSPECIFIED:
            return None
        return cls[tickets_pb2.TicketState.Name(state).removeprefix("TICKET_STATE_")]


@strawberry.type(description="A ticket listed for resale by its seller.")
class Ticket(Node):
    title: str = strawberry.field(description="What the ticket is for, as its seller wrote it.")
    price: Money = strawberry.field(
        description="What a buyer pays, in the currency chosen when it was listed."
    )
    version: int = strawberry.field(
        description="Grows by one on every change; what updateTicket and withdrawTicket take as "
        "expectedVersion."
    )
    created_at: DateTime = strawberry.field(description="When it was listed.")
    raw_id: strawberry.Private[str]
    seller_id: strawberry.Private[str]
    cursor: strawberry.Private[str]
    state_value: strawberry.Private[int]
    event_id: strawberry.Private[str] = ""  # the catalogue event it is for; "" for none (v1)

    @strawberry.field(
        description="FOR_SALE, HELD, SOLD or WITHDRAWN, as the tickets service (the one "
        "authority on availability) has it with the rest of the ticket, never from a copy."
    )
    def state(self) -> TicketState | None:
        return TicketState.from_proto(self.state_value)

    @strawberry.field(description="Who sells it (a public profile); never null today.")
    def seller(self) -> User | None:
        return User.of(self.seller_id)

    @strawberry.field(
        description="What a buyer pays, fees included (price + the buyer's fee, as payments "
        "quotes it now, with its event's own fees if it has some): the price to show before "
        "ordering. Null with an UNAVAILABLE error "
        "when payments cannot be reached (price stands).",
        directives=[Cost(weight=1)],
    )
    async def all_in_price(self, info: Info) -> Money | None:
        return await all_in_price(info, self.price, self.event_id)

    @classmethod
    def from_proto(cls, t: tickets_pb2.Ticket) -> Ticket:
        return cls(
            id=strawberry.ID(global_ids.encode("Ticket", t.id)),
            raw_id=t.id,
            title=t.title,
            price=Money.of(t.price, t.currency_code),
            seller_id=t.user_id,
            version=t.version,
            created_at=from_timestamp(t.create_time),  # type: ignore[arg-type]
            cursor=Cursor(from_timestamp(t.create_time), t.id).encode(),
            state_value=t.state,
            event_id=t.event_id,
        )


@strawberry.type(description="A ticket of a page, and where it is in the connection.")
class TicketEdge:
    cursor: str = strawberry.field(
        description="Opaque; pass it as after/before to the connection (with the same "
        "arguments) that produced it."
    )
    node: Ticket | None = strawberry.field(description="The ticket; null if it failed alone.")


@strawberry.type(description="A page of tickets (a Relay connection).")
class TicketConnection:
    edges: list[TicketEdge | None] = strawberry.field(
        description="The page's tickets with their cursors, in the connection's order."
    )
    nodes: list[Ticket | None] = strawberry.field(
        description="The page's tickets, as in edges, without cursors."
    )
    page_info: PageInfo = strawberry.field(description="Where this page stands.")

    @classmethod
    def of(
        cls, tickets: list[tuple[str, Ticket]], *, has_next: bool, has_previous: bool
    ) -> TicketConnection:
        edges: list[TicketEdge | None] = [TicketEdge(cursor=c, node=t) for c, t in tickets]
        return cls(
            edges=edges,
            nodes=[t for _, t in tickets],
            page_info=PageInfo.of(
                [c for c, _ in tickets], has_next=has_next, has_previous=has_previous
            ),
        )
