"""Recommended and similar events: the insights service ranks catalogue event ids, the catalogue
(one BatchGetEvents per page) stays the authority on each event. An event cancelled since the
model was trained is dropped here as a last check.

Both are ranked connections (PAGE-5), as recommendedTickets: the ranking is computed per request
and cut at 100 ranks; a cursor is the rank offset of an event among the ranking's events still
on, so a later page after a retrain may repeat or skip one, and hasNextPage is false at rank 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import strawberry
from strawberry import UNSET

from gateway import global_ids
from gateway.context import Info
from gateway.paging import MAX_RANKS, After, Before, Last, rank_cursor, rank_slice, window
from gateway.resolvers.recommendations import DEFAULT_FIRST, RANKED, First
from gateway.types.common import PageInfo
from gateway.types.events import Event, EventStatus
from ticketing.catalogue.v1 import catalogue_pb2
from ticketing.insights.v1 import insights_pb2


@strawberry.type(description="An event of a ranking, and its place in it.")
class RankedEventEdge:
    cursor: str = strawberry.field(
        description="Opaque; pass it as after/before to the same field (with the same arguments)."
    )
    node: Event | None = strawberry.field(description="The event.")


@strawberry.type(description="A page of a ranking of events (a Relay connection), best first.")
class RankedEventConnection:
    edges: list[RankedEventEdge | None] = strawberry.field(
        description="The page's events with their cursors, best first."
    )
    nodes: list[Event | None] = strawberry.field(
        description="The page's events, as in edges, without cursors."
    )
    page_info: PageInfo = strawberry.field(description="Where this page stands.")

    @classmethod
    def of(
        cls, events: list[tuple[str, Event]], *, has_next: bool, has_previous: bool
    ) -> RankedEventConnection:
        return cls(
            edges=[RankedEventEdge(cursor=c, node=e) for c, e in events],
            nodes=[e for _, e in events],
            page_info=PageInfo.of(
                [c for c, _ in events], has_next=has_next, has_previous=has_previous
            ),
        )


async def _page(
    info: Info,
    event_ids: Sequence[str],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> RankedEventConnection:
    asked = window(info, first, after, last, before, default=DEFAULT_FIRST)
    ctx = info.context
    ranked_ids = list(event_ids[:MAX_RANKS])
    found: dict[str, catalogue_pb2.Event] = {}
    if ranked_ids:
        request = catalogue_pb2.BatchGetEventsRequest(ids=ranked_ids)
        reply = await ctx.call(ctx.clients.catalogue.BatchGetEvents, request, authenticated=False)
        found = {event.id: event for event in reply.events}
    ranked = [
        Event.from_proto(found[event_id])
        for event_id in ranked_ids
        if event_id in found
        and EventStatus.from_proto(found[event_id].status) is not EventStatus.CANCELLED
    ]
    start, end = rank_slice(asked, len(ranked))
    return RankedEventConnection.of(
        [(rank_cursor(rank), ranked[rank]) for rank in range(start, end)],
        has_next=end < len(ranked),
        has_previous=start > 0,
    )


@strawberry.type
class EventRecommendationQuery:
    @strawberry.field(
        description="Events the caller may like, best first: learned from the events and "
        "listings they and others viewed and bought (signed in, or by the visitor's anonymous "
        "id), and from what the catalogue says of each event (performers, city, category); the "
        "most popular for a first visit. Only events not cancelled, not started and with a "
        "listing for sale; none the caller already looked at. Ranked, cut at 100: first/last "
        f"1-100, default {DEFAULT_FIRST}; BAD_USER_INPUT for a size out of range, a mix of "
        "directions or a bad cursor. No totalCount (a ranking has none).",
        directives=RANKED,
    )
    async def recommended_events(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> RankedEventConnection | None:
        # Sizes, directions and cursors are refused before any call.
        rank_slice(window(info, first, after, last, before, default=DEFAULT_FIRST), MAX_RANKS)
        caller = await info.context.user_id()
        request = insights_pb2.RecommendEventsRequest(
            user_id=caller, anonymous_id=info.context.anonymous_id, first=MAX_RANKS
        )
        clients = info.context.clients
        # A signed-in caller's ranking is asked for with their token (insights refuses another).
        reply = await info.context.call(
            clients.insights.RecommendEvents, request, authenticated=bool(caller)
        )
        return await _page(info, reply.event_ids, first, after, last, before)

    @strawberry.field(
        description="Events like the given one (looked at and bought by the same people, or "
        "with its performers, in its city, of its category), weighed by how many people their "
        "headliner draws, with a few of the most wanted events besides; best first; never the "
        "event itself. Only events not cancelled, not started and with a listing for sale. Ranked, "
        f"cut at 100: first/last 1-100, default {DEFAULT_FIRST}; BAD_USER_INPUT for a size out "
        "of range, a mix of directions or a bad cursor; NOT_FOUND for an id that does not "
        "decode.",
        directives=RANKED,
    )
    async def similar_events(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The event's id.")],
        first: First = DEFAULT_FIRST,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> RankedEventConnection | None:
        # Sizes, directions and cursors are refused before any call.
        rank_slice(window(info, first, after, last, before, default=DEFAULT_FIRST), MAX_RANKS)
        raw_id = global_ids.decode(id, "Event")
        request = insights_pb2.SimilarEventsRequest(event_id=raw_id, first=MAX_RANKS)
        clients = info.context.clients
        reply = await info.context.call(
            clients.insights.SimilarEvents, request, authenticated=False
        )
        ranked = [e for e in reply.event_ids if e != raw_id]
        return await _page(info, ranked, first, after, last, before)
