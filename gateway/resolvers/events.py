"""Catalogue events: one by id, search (a ranked connection with counts), and the operators'
mutations. The catalogue service is the authority; search runs on its index."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import strawberry
from strawberry import UNSET

from common.errors import InvalidInput
from common.pagination import MAX_PAGE_SIZE
from common.protos import timestamp
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.paging import After, Before, Last, Window, first_argument, window
from gateway.resolvers.shared import IDEMPOTENCY_KEY, INPUT, MUTATION, user_errors_field
from gateway.types.common import PageInfo, UserError, list_size, plain_amount
from gateway.types.event_search import EventEdge, EventFacets, EventSearchConnection, EventSort
from gateway.types.events import Event, EventCategory, EventStatus
from gateway.types.scalars import DateTime, Decimal
from gateway.user_errors import expected_failures
from ticketing.catalogue.v1 import catalogue_pb2 as pb

DEFAULT_FIRST = 20
MAX_OFFSET = 10_000  # the catalogue pages a search this deep
_CURSOR = "event-rank:"
SEARCH = [
    Cost(weight=5),
    list_size(slicing_arguments=["first", "last"], sized_fields=["edges", "nodes"]),
]
EVENT_ID = "The event's id; NOT_FOUND when unknown."
EXPECTED_VERSION = (
    "The `version` last read; CONFLICT when the event has moved on (unless it already is what "
    "this input asks, at expectedVersion + 1: then it is returned)."
)


def search_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR}{offset}".encode()).decode().rstrip("=")


def _rank_after(cursor: str, field: str) -> int:
    """The rank a cursor of this connection stands for; BAD_USER_INPUT on `field` otherwise."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith(_CURSOR):
            raise ValueError
        offset = int(text.removeprefix(_CURSOR))
        if not 0 <= offset < MAX_OFFSET:
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("Invalid cursor", field=field) from None
    return offset


@strawberry.input(description="What a search keeps; every field optional (null: any).")
class EventFilter:
    city: str | None = strawberry.field(
        default=None, description="Exactly this city, case- and accent-insensitive."
    )
    category: EventCategory | None = strawberry.field(default=None, description="This kind.")
    starts_from: DateTime | None = strawberry.field(
        default=None, description="Starting at or after."
    )
    starts_to: DateTime | None = strawberry.field(default=None, description="Starting before.")
    price_min: Decimal | None = strawberry.field(
        default=None, description="lowestPrice at least this (events with nothing for sale fail)."
    )
    price_max: Decimal | None = strawberry.field(
        default=None, description="lowestPrice at most this (events with nothing for sale fail)."
    )
    has_tickets: bool | None = strawberry.field(
        default=None, description="true: with tickets for sale; false: without."
    )
    include_cancelled: bool | None = strawberry.field(
        default=None, description="Also CANCELLED events (left out by default)."
    )

    def to_proto(self) -> pb.SearchFilter:
        message = pb.SearchFilter(city=self.city or "")
        if self.category is not None:
            message.category = self.category.to_proto()
        if self.starts_from is not None:
            message.starts_from.CopyFrom(timestamp(self.starts_from))
        if self.starts_to is not None:
            message.starts_to.CopyFrom(timestamp(self.starts_to))
        if self.price_min is not None:
            message.price_min = plain_amount(self.price_min)
        if self.price_max is not None:
            message.price_max = plain_amount(self.price_max)
        if self.has_tickets is not None:
            message.has_tickets = self.has_tickets
        return message


def _event_input(given: CreateEventInput | UpdateEventInput) -> pb.EventInput:
    return pb.EventInput(
        name=given.name,
        performers=[pb.Performer(name=name) for name in given.performers],
        venue=pb.Venue(
            name=given.venue_name,
            city=given.city,
            country=given.country,
            time_zone=given.time_zone,
        ),
        start_time=timestamp(given.starts_at),
        end_time=timestamp(given.ends_at),
        category=given.category.to_proto(),
    )


@strawberry.input(description="An event to add to the catalogue (operators).")
class CreateEventInput:
    name: str = strawberry.field(description="1 to 200 characters.")
    performers: list[str] = strawberry.field(
        description="Performer names, in billing order: 1 to 50, each 1 to 200 characters."
    )
    venue_name: str = strawberry.field(description="The venue's name.")
    city: str = strawberry.field(description="The venue's city.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. GB.")
    time_zone: str = strawberry.field(description="IANA time zone, e.g. Europe/London.")
    starts_at: DateTime = strawberry.field(description="When it starts.")
    ends_at: DateTime = strawberry.field(description="When it ends: after startsAt.")
    category: EventCategory = strawberry.field(description="What kind of event.")
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY)


@strawberry.input(description="An event's new name, performers, venue, times and category.")
class UpdateEventInput:
    id: strawberry.ID = strawberry.field(description=EVENT_ID)
    expected_version: int = strawberry.field(description=EXPECTED_VERSION)
    name: str = strawberry.field(description="1 to 200 characters.")
    performers: list[str] = strawberry.field(
        description="Performer names, in billing order: 1 to 50, each 1 to 200 characters."
    )
    venue_name: str = strawberry.field(description="The venue's name.")
    city: str = strawberry.field(description="The venue's city.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. GB.")
    time_zone: str = strawberry.field(description="IANA time zone, e.g. Europe/London.")
    starts_at: DateTime = strawberry.field(description="When it starts.")
    ends_at: DateTime = strawberry.field(description="When it ends: after startsAt.")
    category: EventCategory = strawberry.field(description="What kind of event.")


@strawberry.input(description="An event's new status.")
class ChangeEventStatusInput:
    id: strawberry.ID = strawberry.field(description=EVENT_ID)
    expected_version: int = strawberry.field(description=EXPECTED_VERSION)
    status: EventStatus = strawberry.field(
        description="POSTPONED, RESCHEDULED (with new times), CANCELLED (final) or SCHEDULED "
        "again; CONFLICT (field status) for a change the event cannot make."
    )
    starts_at: DateTime | None = strawberry.field(
        default=UNSET, description="With RESCHEDULED: the new start (required then)."
    )
    ends_at: DateTime | None = strawberry.field(
        default=UNSET, description="With RESCHEDULED: the new end (required then)."
    )


@strawberry.type(description="The event created.")
class CreateEventPayload:
    event: Event | None = strawberry.field(description="The new event; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The event as changed.")
class UpdateEventPayload:
    event: Event | None = strawberry.field(description="The event; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The event with its new status.")
class ChangeEventStatusPayload:
    event: Event | None = strawberry.field(description="The event; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type
class EventQuery:
    @strawberry.field(
        description="An event by id; null with NOT_FOUND for an unknown one (or an id that does "
        "not decode or is not an Event's).",
        directives=[Cost(weight=1)],
    )
    async def event(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The event's id.")],
    ) -> Event | None:
        ctx = info.context
        request = pb.GetEventRequest(id=global_ids.decode(id, "Event"))
        reply = await ctx.call(ctx.clients.catalogue.GetEvent, request, authenticated=False)
        await ctx.behaviour.event_viewed(reply.event.id)
        return Event.from_proto(reply.event)

    @strawberry.field(
        description="Events found by words and filters, in the order asked (a ranked "
        f"connection: first/last 1-{MAX_PAGE_SIZE}, default {DEFAULT_FIRST}; at most "
        f"{MAX_OFFSET} deep), with totalCount and facet counts over all matches. Each word is a "
        'prefix ("arct mon" finds Arctic Monkeys), case- and accent-insensitive. CANCELLED '
        "events only with filter.includeCancelled. BAD_USER_INPUT for a size out of range, a "
        "mix of directions or a cursor that does not decode. A new event or price is found "
        "within about a second; a later page may repeat or skip an event that changed meanwhile.",
        directives=SEARCH,
    )
    async def events(
        self,
        info: Info,
        query: Annotated[
            str | None, strawberry.argument(description="Words to find; null or empty: all.")
        ] = None,
        filter: Annotated[
            EventFilter | None, strawberry.argument(description="What to keep.")
        ] = None,
        sort: Annotated[
            EventSort | None, strawberry.argument(description="The order; null: RELEVANCE.")
        ] = EventSort.RELEVANCE,
        first: Annotated[int | None, first_argument(DEFAULT_FIRST)] = DEFAULT_FIRST,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> EventSearchConnection | None:
        asked = window(info, first, after, last, before, default=DEFAULT_FIRST)
        given = filter or EventFilter()
        request = pb.SearchEventsRequest(
            query=query or "",
            filter=given.to_proto(),
            sort=(sort or EventSort.RELEVANCE).to_proto(),
            include_cancelled=bool(given.include_cancelled),
        )
        start, size = await _page_of(info, request, asked)
        # An empty page (before the first) still asks for one, for the counts.
        request.offset, request.page_size = start, max(size, 1)
        ctx = info.context
        reply = await ctx.call(ctx.clients.catalogue.SearchEvents, request, authenticated=False)
        events = [Event.from_proto(e) for e in reply.events[:size]]
        cursors = [search_cursor(start + i) for i in range(len(events))]
        edges: list[EventEdge | None] = [
            EventEdge(cursor=c, node=e) for c, e in zip(cursors, events, strict=True)
        ]
        return EventSearchConnection(
            edges=edges,
            nodes=list(events),
            page_info=PageInfo.of(
                cursors,
                has_next=start + len(events) < min(reply.total_count, MAX_OFFSET),
                has_previous=start > 0,
            ),
            total_count=reply.total_count,
            facets=EventFacets.from_proto(reply),
        )


async def _page_of(info: Info, request: pb.SearchEventsRequest, asked: Window) -> tuple[int, int]:
    """(offset, size) of the page among the ranked matches. Backwards from the end (`last`
    without `before`) needs the number of matches first: one more search, of one event."""
    if not asked.backward:
        return _rank_after(asked.after, "after") + 1 if asked.after else 0, asked.size
    if asked.before:
        end = _rank_after(asked.before, "before")
    else:
        probe = pb.SearchEventsRequest()
        probe.CopyFrom(request)
        probe.page_size = 1
        ctx = info.context
        reply = await ctx.call(ctx.clients.catalogue.SearchEvents, probe, authenticated=False)
        end = min(reply.total_count, MAX_OFFSET)
    start = max(0, end - asked.size)
    return start, end - start


@strawberry.type
class EventMutation:
    @strawberry.mutation(
        description="An operator adds an event. userErrors: BAD_USER_INPUT (field named), "
        "FORBIDDEN (not an admin), IDEMPOTENCY_KEY_REUSED. Top-level UNAUTHENTICATED when "
        "signed out.",
        directives=MUTATION,
    )
    async def create_event(
        self, info: Info, input: Annotated[CreateEventInput, INPUT]
    ) -> CreateEventPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures() as outcome:
            await ctx.require_admin()
            request = pb.CreateEventRequest(
                event=_event_input(input), idempotency_key=input.idempotency_key
            )
            reply = await ctx.call(ctx.clients.catalogue.CreateEvent, request)
            return CreateEventPayload(event=Event.from_proto(reply.event), user_errors=[])
        return CreateEventPayload(event=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="An operator changes an event's name, performers, venue, times and "
        "category (not its status: changeEventStatus). userErrors: BAD_USER_INPUT, NOT_FOUND, "
        "FORBIDDEN (not an admin), CONFLICT (stale expectedVersion; a cancelled event). "
        "Top-level UNAUTHENTICATED when signed out.",
        directives=MUTATION,
    )
    async def update_event(
        self, info: Info, input: Annotated[UpdateEventInput, INPUT]
    ) -> UpdateEventPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="id") as outcome:
            await ctx.require_admin()
            request = pb.UpdateEventRequest(
                id=global_ids.decode(input.id, "Event", field="id"),
                event=_event_input(input),
                expected_version=input.expected_version,
            )
            reply = await ctx.call(ctx.clients.catalogue.UpdateEvent, request)
            return UpdateEventPayload(event=Event.from_proto(reply.event), user_errors=[])
        return UpdateEventPayload(event=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="An operator postpones, reschedules, cancels (final) or schedules again an "
        "event. userErrors: BAD_USER_INPUT (RESCHEDULED without valid times), NOT_FOUND, "
        "FORBIDDEN (not an admin), CONFLICT (a change the status cannot make: field status; "
        "stale expectedVersion). Top-level UNAUTHENTICATED when signed out.",
        directives=MUTATION,
    )
    async def change_event_status(
        self, info: Info, input: Annotated[ChangeEventStatusInput, INPUT]
    ) -> ChangeEventStatusPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="id") as outcome:
            await ctx.require_admin()
            request = pb.ChangeEventStatusRequest(
                id=global_ids.decode(input.id, "Event", field="id"),
                status=input.status.to_proto(),
                expected_version=input.expected_version,
            )
            if input.starts_at is not None and input.starts_at is not UNSET:
                request.start_time.CopyFrom(timestamp(input.starts_at))
            if input.ends_at is not None and input.ends_at is not UNSET:
                request.end_time.CopyFrom(timestamp(input.ends_at))
            reply = await ctx.call(ctx.clients.catalogue.ChangeEventStatus, request)
            return ChangeEventStatusPayload(event=Event.from_proto(reply.event), user_errors=[])
        return ChangeEventStatusPayload(event=None, user_errors=outcome.user_errors)
