"""Recommended and similar tickets: the insights service ranks ticket ids, the tickets service
(through the request's tickets DataLoader and the ticket cache) stays the authority on each
ticket. A ticket no longer for sale, or the caller's own, is dropped here as a last check: the
model's view of the marketplace can be a few seconds old."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry

from common.pagination import MAX_PAGE_SIZE, first_or_default
from gateway.context import Info
from gateway.types.market import Ticket
from ticketing.insights.v1 import insights_pb2

DEFAULT_FIRST = 10
# Asked for beyond `first`, to make up for the ones dropped here.
SPARE = 10


async def _for_sale(info: Info, ticket_ids: Sequence[str], caller: str, first: int) -> list[Ticket]:
    found = await info.context.tickets.load_many(list(ticket_ids))
    kept = [
        ticket
        for ticket in found
        if ticket is not None and not ticket.order_id and ticket.user_id != caller
    ]
    return [Ticket.from_proto(ticket) for ticket in kept[:first]]


@strawberry.type
class RecommendationQuery:
    @strawberry.field(
        description="Tickets for sale the caller may like, best first: learned from what they "
        "and others viewed and bought (signed in, or by the visitor's anonymous id); the most "
        "popular for a first visit. Never the caller's own."
    )
    async def recommended_tickets(
        self, info: Info, first: int | None = DEFAULT_FIRST
    ) -> list[Ticket]:
        size = first_or_default(first, DEFAULT_FIRST)
        caller = await info.context.user_id()
        request = insights_pb2.RecommendTicketsRequest(
            user_id=caller,
            anonymous_id=info.context.anonymous_id,
            first=min(size + SPARE, MAX_PAGE_SIZE),
        )
        clients = info.context.clients
        reply = await clients.call(clients.insights.RecommendTickets, request)
        return await _for_sale(info, reply.ticket_ids, caller, size)

    @strawberry.field(
        description="Tickets for sale like the given one (bought and viewed by the same people, "
        "or with a similar title and price), best first; never the ticket itself nor the "
        "caller's own."
    )
    async def similar_tickets(
        self, info: Info, id: strawberry.ID, first: int | None = DEFAULT_FIRST
    ) -> list[Ticket]:
        size = first_or_default(first, DEFAULT_FIRST)
        caller = await info.context.user_id()
        request = insights_pb2.SimilarTicketsRequest(
            ticket_id=id, user_id=caller, first=min(size + SPARE, MAX_PAGE_SIZE)
        )
        clients = info.context.clients
        reply = await clients.call(clients.insights.SimilarTickets, request)
        return await _for_sale(info, [t for t in reply.ticket_ids if t != id], caller, size)
