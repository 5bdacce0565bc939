"""Recommended and similar tickets: the insights service ranks ticket ids, the tickets service
(through the request's tickets DataLoader and the ticket cache) stays the authority on each
ticket. A ticket no longer listed for sale, or the caller's own, is dropped here as a last check:
the model's view of the marketplace can be a few seconds old.

Both are ranked connections (PAGE-5): the ranking is computed per request and cut at 100 ranks;
a cursor is the rank offset of an item among the ranking's tickets for sale, so a later page
after a retrain may repeat or skip an item, and hasNextPage is false at rank 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import strawberry
from strawberry import UNSET

from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.paging import (
    MAX_RANKS,
    After,
    Before,
    Last,
    first_argument,
    rank_cursor,
    rank_slice,
    window,
)
from gateway.types.common import list_size
from gateway.types.tickets import Ticket, TicketConnection
from ticketing.insights.v1 import insights_pb2

DEFAULT_FIRST = 10
RANKED = [
    Cost(weight=20),
    list_size(slicing_arguments=["first", "last"], sized_fields=["edges", "nodes"]),
]
First = Annotated[int | None, first_argument(DEFAULT_FIRST)]


async def _page(
    info: Info,
    ticket_ids: Sequence[str],
    caller: str,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> TicketConnection:
    asked = window(info, first, after, last, before, default=DEFAULT_FIRST)
    found = await info.context.tickets.load_many(list(ticket_ids[:MAX_RANKS]))
    ranked = [
        Ticket.from_proto(ticket)
        for ticket in found
        if ticket is not None
        and not ticket.order_id
        and not ticket.withdrawn
        and ticket.user_id != caller
    ]
    start, end = rank_slice(asked, len(ranked))
    return TicketConnection.of(
        [(rank_cursor(rank), ranked[rank]) for rank in range(start, end)],
        has_next=end < len(ranked),
        has_previous=start > 0,
    )


@strawberry.type
class RecommendationQuery:
    @strawberry.field(
        description="Tickets for sale the caller may like, best first: learned from what they "
        "and others viewed and bought (signed in, or by the visitor's anonymous id); the most "
        "popular for a first visit. Never the caller's own. Ranked, cut at 100: first/last "
        f"1-100, default {DEFAULT_FIRST}; BAD_USER_INPUT for a size out of range, a mix of "
        "directions or a bad cursor. No totalCount (a ranking has none).",
        directives=RANKED,
    )
    async def recommended_tickets(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> TicketConnection | None:
        # Sizes, directions and cursors are refused before any call.
        rank_slice(window(info, first, after, last, before, default=DEFAULT_FIRST), MAX_RANKS)
        caller = await info.context.user_id()
        request = insights_pb2.RecommendTicketsRequest(
            user_id=caller, anonymous_id=info.context.anonymous_id, first=MAX_RANKS
        )
        clients = info.context.clients
        # A signed-in caller's ranking is asked for with their token (insights refuses another).
        reply = await info.context.call(
            clients.insights.RecommendTickets, request, authenticated=bool(caller)
        )
        return await _page(info, reply.ticket_ids, caller, first, after, last, before)

    @strawberry.field(
        description="Tickets for sale like the given one (bought and viewed by the same people, "
        "or with a similar title and price), best first; never the ticket itself nor the "
        "caller's own. Ranked, cut at 100: first/last 1-100, default "
        f"{DEFAULT_FIRST}; BAD_USER_INPUT for a size out of range, a mix of directions or a bad "
        "cursor; NOT_FOUND for an id that does not decode.",
        directives=RANKED,
    )
    async def similar_tickets(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ticket's id.")],
        first: First = DEFAULT_FIRST,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> TicketConnection | None:
        # Sizes, directions and cursors are refused before any call.
        rank_slice(window(info, first, after, last, before, default=DEFAULT_FIRST), MAX_RANKS)
        raw_id = global_ids.decode(id, "Ticket")
        caller = await info.context.user_id()
        request = insights_pb2.SimilarTicketsRequest(
            ticket_id=raw_id, user_id=caller, first=MAX_RANKS
        )
        clients = info.context.clients
        reply = await info.context.call(
            clients.insights.SimilarTickets, request, authenticated=bool(caller)
        )
        ranked = [t for t in reply.ticket_ids if t != raw_id]
        return await _page(info, ranked, caller, first, after, last, before)
