"""Catalogue events (concerts, games) as GraphQL types, built from the catalogue service's
messages; search results as a connection with facet counts."""

from __future__ import annotations

from enum import Enum

import strawberry

from common.protos import from_timestamp
from gateway import global_ids
from gateway.types.common import Money, Node, PageInfo, list_size
from gateway.types.scalars import DateTime
from ticketing.catalogue.v1 import catalogue_pb2 as pb

# A facet lists its most frequent values, at most this many (PAGE-7).
MAX_FACET_VALUES = 50
MAX_PERFORMERS = 50  # the catalogue's bound on an event's performers


@strawberry.enum(
    description="What kind of event. New values may be added: show an unknown one as OTHER."
)
class EventCategory(Enum):
    CONCERT = strawberry.enum_value("CONCERT", description="Music, live.")
    SPORTS = strawberry.enum_value("SPORTS", description="A match, a race, a game.")
    THEATRE = strawberry.enum_value("THEATRE", description="Plays, musicals, opera, dance.")
    COMEDY = strawberry.enum_value("COMEDY", description="Stand-up and comedy shows.")
    FESTIVAL = strawberry.enum_value("FESTIVAL", description="Several days or stages.")
    OTHER = strawberry.enum_value("OTHER", description="Anything else.")

    @classmethod
    def from_proto(cls, value: int) -> EventCategory:
        if value == pb.EVENT_CATEGORY_UNSPECIFIED:
            return cls.OTHER
        return cls[pb.EventCategory.Name(value).removeprefix("EVENT_CATEGORY_")]

    def to_proto(self) -> int:
        return pb.EventCategory.Value(f"EVENT_CATEGORY_{self.value}")


@strawberry.enum(
    description="Whether an event goes ahead. New values may be added: show an unknown one as "
    "SCHEDULED."
)
class EventStatus(Enum):
    SCHEDULED = strawberry.enum_value("SCHEDULED", description="On, at its times.")
    POSTPONED = strawberry.enum_value("POSTPONED", description="Put off; new times not yet known.")
    RESCHEDULED = strawberry.enum_value(
        "RESCHEDULED", description="Moved to new times (startsAt, endsAt)."
    )
    CANCELLED = strawberry.enum_value("CANCELLED", description="Will not take place (final).")

    @classmethod
    def from_proto(cls, value: int) -> EventStatus:
        if value == pb.EVENT_STATUS_UNSPECIFIED:
            return cls.SCHEDULED
        return cls[pb.EventStatus.Name(value).removeprefix("EVENT_STATUS_")]

    def to_proto(self) -> int:
        return pb.EventStatus.Value(f"EVENT_STATUS_{self.value}")


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


@strawberry.type(description="Where an event takes place (part of the event, not a Node).")
class Venue:
    slug: str = strawberry.field(
        description='A stable key of the venue, e.g. "venue:o2-arena-london" (not a global id).'
    )
    name: str = strawberry.field(description="The venue's name.")
    city: str = strawberry.field(description="Its city, as the operator wrote it.")
    country: str = strawberry.field(description='ISO 3166-1 alpha-2 code, e.g. "GB".')
    time_zone: str = strawberry.field(
        description='IANA time zone of the venue, e.g. "Europe/London": show times in it.'
    )


@strawberry.type(description="Who performs at an event (part of the event, not a Node).")
class Performer:
    slug: str = strawberry.field(
        description='A stable key of the performer, e.g. "performer:arctic-monkeys" (not a '
        "global id)."
    )
    name: str = strawberry.field(description="The performer's name.")


@strawberry.type(description="A concert, game or show that tickets are sold for.")
class Event(Node):
    name: str = strawberry.field(description="The event's name.")
    performers: list[Performer] = strawberry.field(
        description=f"Who performs, in billing order: 1 to {MAX_PERFORMERS}.",
        directives=[list_size(assumed_size=MAX_PERFORMERS)],
    )
    venue: Venue = strawberry.field(description="Where it takes place.")
    starts_at: DateTime = strawberry.field(description="When it starts.")
    ends_at: DateTime = strawberry.field(description="When it ends (after startsAt).")
    time_zone: str = strawberry.field(description="The venue's IANA time zone (venue.timeZone).")
    category: EventCategory = strawberry.field(description="What kind of event.")
    status: EventStatus = strawberry.field(description="Whether it goes ahead.")
    version: int = strawberry.field(
        description="Grows by one on every change; what updateEvent and changeEventStatus take "
        "as expectedVersion."
    )
    lowest_price: Money | None = strawberry.field(
        description="The cheapest ticket for sale (in the currency most of its listings use); "
        "null when none is for sale. A summary that may lag a sale by a second."
    )
    ticket_count: int = strawberry.field(
        description="Tickets (seats) for sale over all its listings; a summary, as lowestPrice."
    )

    @classmethod
    def from_proto(cls, e: pb.Event) -> Event:
        return cls(
            id=strawberry.ID(global_ids.encode("Event", e.id)),
            name=e.name,
            performers=[Performer(slug=p.id, name=p.name) for p in e.performers],
            venue=Venue(
                slug=e.venue.id,
                name=e.venue.name,
                city=e.venue.city,
                country=e.venue.country,
                time_zone=e.venue.time_zone,
            ),
            starts_at=from_timestamp(e.start_time),  # type: ignore[arg-type]
            ends_at=from_timestamp(e.end_time),  # type: ignore[arg-type]
            time_zone=e.venue.time_zone,
            category=EventCategory.from_proto(e.category),
            status=EventStatus.from_proto(e.status),
            version=e.version,
            lowest_price=Money.of(e.lowest_price, e.currency_code) if e.lowest_price else None,
            ticket_count=e.tickets_for_sale,
        )


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
