"""Catalogue events (concerts, games) and the listings of seats for them as GraphQL types, built
from the catalogue's and the tickets service's messages (one module: each refers to the other).
Search results: gateway/types/event_search.py."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET

from common.errors import InvalidInput, NotFound
from common.pagination import Cursor
from common.protos import from_timestamp
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.paging import After, Before, Last, first_argument, window
from gateway.types.common import Money, Node, PageInfo, list_size
from gateway.types.entry import (
    DOUBLES_FIELD,
    SCANNERS_FIELD,
    DoubleAdmission,
    event_double_admissions,
    event_scanners,
)
from gateway.types.fees import EventFeeOverride, all_in_price
from gateway.types.message_fields import moment, read_once
from gateway.types.scalars import DateTime
from gateway.types.tickets import TicketState
from gateway.types.user import User
from ticketing.catalogue.v1 import catalogue_pb2 as pb
from ticketing.tickets.v1 import tickets_pb2

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
    fee_override: EventFeeOverride | None = strawberry.field(
        default=None,
        description="The event's own fees (operators set them: setEventFees); null when it has "
        "none and the standard fees apply. Public, as the all-in prices they make are.",
    )
    raw_id: strawberry.Private[str] = ""
    scanners: list[User] | None = strawberry.field(resolver=event_scanners, **SCANNERS_FIELD)
    double_admissions: list[DoubleAdmission] | None = strawberry.field(
        resolver=event_double_admissions, **DOUBLES_FIELD
    )

    @strawberry.field(
        description="lowestPrice with the buyer's fee, as payments quotes it now (with the "
        'event\'s own fees if it has some): the "from" '
        "price to show. Null when none is for sale, or with an UNAVAILABLE error when payments "
        "cannot be reached (lowestPrice stands).",
        directives=[Cost(weight=1)],
    )
    async def lowest_all_in_price(self, info: Info) -> Money | None:
        if self.lowest_price is None:
            return None
        return await all_in_price(info, self.lowest_price, self.raw_id)

    @strawberry.field(
        description="Its listings with seats for sale, cheapest first (then by id), as the "
        "tickets service (the one authority on availability) has them now. first 1-100, default "
        "20; forwards only (last/before: BAD_USER_INPUT).",
        directives=[
            Cost(weight=1),
            list_size(slicing_arguments=["first", "last"], sized_fields=["edges", "nodes"]),
        ],
    )
    async def listings(
        self,
        info: Info,
        first: Annotated[int | None, first_argument(20)] = 20,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> ListingConnection | None:
        asked = window(info, first, after, last, before, default=20)
        if asked.backward:
            raise InvalidInput("An event's listings page forwards only", field="last")
        ctx = info.context
        request = tickets_pb2.ListTicketsOfEventRequest(
            event_id=self.raw_id, page_size=asked.size, page_token=asked.after
        )
        reply = await ctx.call(ctx.clients.tickets.ListTicketsOfEvent, request, authenticated=False)
        listings = [
            Listing.from_proto(t, cursor=c)
            for t, c in zip(reply.tickets, reply.page_tokens, strict=True)
        ]
        return ListingConnection.of(
            listings, has_next=bool(reply.next_page_token), has_previous=bool(asked.after)
        )

    @classmethod
    def from_proto(cls, e: pb.Event) -> Event:
        """The event of a catalogue message, each field read from it when first asked: a search
        page selects 8 of the 14 fields of 20 events, and building them all was a tenth of the
        gateway's CPU per search (bench/README.md, "Gateway cost per search")."""
        return _EventOfMessage(e)


_CATEGORIES = {v: EventCategory.from_proto(v) for v in pb.EventCategory.values()}
_STATUSES = {v: EventStatus.from_proto(v) for v in pb.EventStatus.values()}


class _EventOfMessage(Event):
    """An `Event` whose fields are computed from its message on first read, then kept. Not a
    dataclass of its own: `Event`'s fields are overridden by the properties below."""

    def __init__(self, message: pb.Event) -> None:  # pylint: disable=super-init-not-called
        self._message = message

    @read_once
    def id(self) -> strawberry.ID:  # type: ignore[override]
        return strawberry.ID(global_ids.encode("Event", self._message.id))

    @read_once
    def raw_id(self) -> str:  # type: ignore[override]
        return self._message.id

    @read_once
    def name(self) -> str:  # type: ignore[override]
        return self._message.name

    @read_once
    def performers(self) -> list[Performer]:  # type: ignore[override]
        return [Performer(slug=p.id, name=p.name) for p in self._message.performers]

    @read_once
    def venue(self) -> Venue:  # type: ignore[override]
        v = self._message.venue
        return Venue(slug=v.id, name=v.name, city=v.city, country=v.country, time_zone=v.time_zone)

    @read_once
    def starts_at(self) -> datetime:  # type: ignore[override]
        return moment(self._message.start_time)

    @read_once
    def ends_at(self) -> datetime:  # type: ignore[override]
        return moment(self._message.end_time)

    @read_once
    def time_zone(self) -> str:  # type: ignore[override]
        return self._message.venue.time_zone

    @read_once
    def category(self) -> EventCategory:  # type: ignore[override]
        value = self._message.category
        return _CATEGORIES.get(value) or EventCategory.from_proto(value)

    @read_once
    def status(self) -> EventStatus:  # type: ignore[override]
        value = self._message.status
        return _STATUSES.get(value) or EventStatus.from_proto(value)

    @read_once
    def version(self) -> int:  # type: ignore[override]
        return self._message.version

    @read_once
    def lowest_price(self) -> Money | None:  # type: ignore[override]
        e = self._message
        return Money.of(e.lowest_price, e.currency_code) if e.lowest_price else None

    @read_once
    def ticket_count(self) -> int:  # type: ignore[override]
        return self._message.tickets_for_sale

    @read_once
    def fee_override(self) -> EventFeeOverride | None:  # type: ignore[override]
        return EventFeeOverride.from_proto(self._message.fee_override)


# Seats of a listing: typically a few (the cost of their lists); at most 100.
TYPICAL_SEATS = 10


@strawberry.enum(description="How the seats of a listing may be split between orders.")
class SplitRule(Enum):
    ANY = strawberry.enum_value("ANY", description="Any quantity.")
    EVEN = strawberry.enum_value("EVEN", description="Even quantities only (pairs).")
    ALL = strawberry.enum_value("ALL", description="All the seats for sale, in one order.")
    NO_SINGLE = strawberry.enum_value(
        "NO_SINGLE", description="Any quantity that does not leave exactly one seat."
    )

    @classmethod
    def from_proto(cls, value: int) -> SplitRule:
        if value == tickets_pb2.SPLIT_RULE_UNSPECIFIED:
            return cls.ANY
        return cls[tickets_pb2.SplitRule.Name(value).removeprefix("SPLIT_RULE_")]

    def to_proto(self) -> int:
        return tickets_pb2.SplitRule.Value(f"SPLIT_RULE_{self.value}")


@strawberry.enum(description="How the seats reach the buyer.")
class DeliveryMethod(Enum):
    E_TICKET = strawberry.enum_value("E_TICKET", description="A PDF or wallet pass.")
    BARCODE = strawberry.enum_value("BARCODE", description="The barcode values.")
    MOBILE_TRANSFER = strawberry.enum_value(
        "MOBILE_TRANSFER", description="Moved in the venue's own app."
    )

    @classmethod
    def from_proto(cls, value: int) -> DeliveryMethod:
        if value == tickets_pb2.DELIVERY_METHOD_UNSPECIFIED:
            return cls.E_TICKET
        return cls[tickets_pb2.DeliveryMethod.Name(value).removeprefix("DELIVERY_METHOD_")]

    def to_proto(self) -> int:
        return tickets_pb2.DeliveryMethod.Value(f"DELIVERY_METHOD_{self.value}")


@strawberry.type(description="A seller's seats for an event, for sale together under one price.")
class Listing(Node):
    quantity: int = strawberry.field(description="Seats listed.")
    available: int = strawberry.field(
        description="Seats for sale now (neither held by an order, nor sold, nor withdrawn)."
    )
    section: str | None = strawberry.field(description="Where the seats are; null when not said.")
    row: str | None = strawberry.field(description="Their row; null when not said.")
    seats: list[str] = strawberry.field(
        description="The seats' numbers, one per seat; empty when not numbered.",
        directives=[list_size(assumed_size=TYPICAL_SEATS)],
    )
    price: Money = strawberry.field(description="What a buyer pays per ticket.")
    face_value: Money | None = strawberry.field(
        description="What a ticket cost at the box office; null when not said."
    )
    split_rule: SplitRule = strawberry.field(description="How its seats may be split.")
    delivery_method: DeliveryMethod = strawberry.field(description="How the seats are delivered.")
    notes: str | None = strawberry.field(description="The seller's notes; null when none.")
    deliver_by: DateTime | None = strawberry.field(
        description="When the seller delivers a paid order's seats by; null: the default "
        "(before the event)."
    )
    state: TicketState | None = strawberry.field(
        description="FOR_SALE while seats are for sale; HELD, SOLD or WITHDRAWN otherwise."
    )
    version: int = strawberry.field(
        description="Grows by one on every change (holds too); what updateListing and "
        "withdrawListing take as expectedVersion."
    )
    created_at: DateTime = strawberry.field(description="When it was listed.")
    raw_id: strawberry.Private[str]
    event_id: strawberry.Private[str]
    seller_id: strawberry.Private[str]
    allowed: strawberry.Private[list[int]]
    cursor: strawberry.Private[str]

    @strawberry.field(
        description="The quantities a buyer may order now, smallest first: what the split rule "
        "allows of the seats for sale (the tickets service's answer). Empty when none is for "
        "sale.",
        directives=[list_size(assumed_size=TYPICAL_SEATS)],
    )
    def allowed_quantities(self) -> list[int]:
        return self.allowed

    @strawberry.field(description="Who sells it (a public profile).")
    def seller(self) -> User | None:
        return User.of(self.seller_id)

    @strawberry.field(
        description="What a buyer pays per ticket, fees included (price + the buyer's fee, as "
        "payments quotes it now): the price to show before ordering. Null with an UNAVAILABLE "
        "error when payments cannot be reached (price stands).",
        directives=[Cost(weight=1)],
    )
    async def all_in_price(self, info: Info) -> Money | None:
        return await all_in_price(info, self.price, self.event_id)

    @strawberry.field(
        description="The event it is for; null for a ticket listed without one (v1).",
        directives=[Cost(weight=1)],
    )
    async def event(self, info: Info) -> Event | None:
        if not self.event_id:
            return None
        # Batched: a page of listings asks the catalogue once (BatchGetEvents) for their events.
        event = await info.context.events.load(self.event_id)
        if event is None:
            raise NotFound("Event not found")  # as GetEvent answered before it was batched
        return Event.from_proto(event)

    @classmethod
    def from_proto(cls, t: tickets_pb2.Ticket, cursor: str = "") -> Listing:
        created = from_timestamp(t.create_time)
        return cls(
            id=strawberry.ID(global_ids.encode("Listing", t.id)),
            raw_id=t.id,
            event_id=t.event_id,
            seller_id=t.user_id,
            quantity=t.quantity or 1,
            available=t.available,
            section=t.section or None,
            row=t.row or None,
            seats=list(t.seat_labels),
            price=Money.of(t.price, t.currency_code),
            face_value=Money.of(t.face_value, t.currency_code) if t.face_value else None,
            split_rule=SplitRule.from_proto(t.split_rule),
            allowed=list(t.allowed_quantities),
            delivery_method=DeliveryMethod.from_proto(t.delivery_method),
            notes=t.notes or None,
            deliver_by=from_timestamp(t.deliver_by) if t.HasField("deliver_by") else None,  # type: ignore[arg-type]
            state=TicketState.from_proto(t.state),
            version=t.version,
            created_at=created,  # type: ignore[arg-type]
            cursor=cursor or Cursor(created, t.id).encode(),
        )


@strawberry.type(description="A listing of a page, and where it is in the connection.")
class ListingEdge:
    cursor: str = strawberry.field(
        description="Opaque; pass it as after to the connection (with the same arguments)."
    )
    node: Listing | None = strawberry.field(description="The listing.")


@strawberry.type(description="A page of listings (a Relay connection).")
class ListingConnection:
    edges: list[ListingEdge | None] = strawberry.field(
        description="The page's listings with their cursors, in the connection's order."
    )
    nodes: list[Listing | None] = strawberry.field(
        description="The page's listings, as in edges, without cursors."
    )
    page_info: PageInfo = strawberry.field(description="Where this page stands.")

    @classmethod
    def of(
        cls, listings: list[Listing], *, has_next: bool, has_previous: bool
    ) -> ListingConnection:
        return cls(
            edges=[ListingEdge(cursor=x.cursor, node=x) for x in listings],
            nodes=list(listings),
            page_info=PageInfo.of(
                [x.cursor for x in listings], has_next=has_next, has_previous=has_previous
            ),
        )
