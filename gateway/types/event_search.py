"""Event search results as GraphQL types: a ranked connection with facet counts."""

from __future__ import annotations

from enum import Enum

import strawberry

from gateway.types.common import PageInfo, list_size
from gateway.types.events import Event
from ticketing.catalogue.v1 import catalogue_pb2 as pb

# A facet lists its most frequent values, at most this many (PAGE-7).
MAX_FACET_VALUES = 50


@strawberry.enum(description="The order of a search's results.")
class EventSort(Enum):
    RELEVANCE = strawberry.enum_value(
        "RELEVANCE", description="Best match first; without a query, soonest first."
    )
    DATE = strawberry.enum_value("DATE", description="Soonest first.")
    PRICE = strawberry.enum_value(
        "PRICE", description="Cheapest ticket for sale first; events with none last."
    )

    def to_proto(self) -> int:
        return pb.EventSort.Value(f"EVENT_SORT_{self.value}")


@strawberry.type(description="How many of a search's matches have one value.")
class FacetCount:
    value: str = strawberry.field(
        description="The value: a category's name (CONCERT) or a city as written."
    )
    count: int = strawberry.field(description="Matches with it.")


def _facet_field(what: str) -> list[FacetCount]:
    return strawberry.field(  # type: ignore[no-any-return]
        description=f"Matches per {what}, most first (then by value); the "
        f"{MAX_FACET_VALUES} most frequent.",
        directives=[list_size(assumed_size=MAX_FACET_VALUES)],
    )


@strawberry.type(description="Counts over all of a search's matches, not just the page.")
class EventFacets:
    categories: list[FacetCount] = _facet_field("category")
    cities: list[FacetCount] = _facet_field("city")

    @classmethod
    def from_proto(cls, reply: pb.SearchEventsResponse) -> EventFacets:
        def counts(facets) -> list[FacetCount]:
            return [FacetCount(value=f.value, count=f.count) for f in facets][:MAX_FACET_VALUES]

        return cls(categories=counts(reply.categories), cities=counts(reply.cities))


@strawberry.type(description="An event of a search's page, and where it is in the ranking.")
class EventEdge:
    cursor: str = strawberry.field(
        description="Opaque; pass it as after to events (with the same arguments)."
    )
    node: Event | None = strawberry.field(description="The event.")


@strawberry.type(description="A page of a search's events (a Relay connection), with counts.")
class EventSearchConnection:
    edges: list[EventEdge | None] = strawberry.field(
        description="The page's events with their cursors, in the search's order."
    )
    nodes: list[Event | None] = strawberry.field(
        description="The page's events, as in edges, without cursors."
    )
    page_info: PageInfo = strawberry.field(description="Where this page stands.")
    total_count: int = strawberry.field(
        description="Matches in all (counted by the search index with the page, at no cost)."
    )
    facets: EventFacets = strawberry.field(description="Counts over all matches.")
