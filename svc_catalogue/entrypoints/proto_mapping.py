"""Catalogue messages <-> the handlers' commands and the domain's events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from common.errors import InvalidInput
from common.money import format_money
from common.protos import from_timestamp, timestamp
from svc_catalogue.domain.fees import FeeOverride
from svc_catalogue.domain.model import Event
from svc_catalogue.domain.search import EventSort, FacetCount, SearchFilter
from svc_catalogue.domain.values import Category, EventStatus, Performer
from svc_catalogue.service_layer.commands import EventInput, ImportRow
from svc_catalogue.service_layer.imports import Outcome, RowResult
from ticketing.catalogue.v1 import catalogue_pb2 as pb

_CATEGORY_PREFIX = "EVENT_CATEGORY_"
_STATUS_PREFIX = "EVENT_STATUS_"


def category_to_proto(category: Category) -> int:
    return pb.EventCategory.Value(_CATEGORY_PREFIX + category.value)


def category_name(value: int) -> str:
    """The category's name ("CONCERT"), "" for unspecified or unknown (the domain refuses it)."""
    if value == pb.EVENT_CATEGORY_UNSPECIFIED or value not in pb.EventCategory.values():
        return ""
    return pb.EventCategory.Name(value).removeprefix(_CATEGORY_PREFIX)


def status_from_proto(value: int) -> EventStatus | None:
    if value == pb.EVENT_STATUS_UNSPECIFIED or value not in pb.EventStatus.values():
        return None
    return EventStatus(pb.EventStatus.Name(value).removeprefix(_STATUS_PREFIX))


def given_time(message, name: str) -> datetime | None:
    return from_timestamp(getattr(message, name)) if message.HasField(name) else None


def event_to_proto(event: Event) -> pb.Event:
    venue, summary = event.venue, event.summary
    return pb.Event(
        id=event.id,
        name=event.name,
        performers=[pb.Performer(id=p.id, name=p.name) for p in event.performers],
        venue=pb.Venue(
            id=venue.id,
            name=venue.name,
            city=venue.city,
            country=venue.country,
            time_zone=venue.time_zone,
        ),
        start_time=timestamp(event.starts_at),
        end_time=timestamp(event.ends_at),
        category=category_to_proto(event.category),
        status=pb.EventStatus.Value(_STATUS_PREFIX + event.status.value),
        version=event.version,
        external_ref=event.external_ref,
        lowest_price="" if summary.lowest_price is None else format_money(summary.lowest_price),
        currency_code=summary.currency_code,
        tickets_for_sale=summary.tickets_for_sale,
        create_time=timestamp(event.created_at),
        fee_override=fee_override_to_proto(event.fee_override),
    )


def fee_override_to_proto(fees: FeeOverride) -> pb.FeeOverride | None:
    if fees.empty:
        return None
    percent, commission = fees.buyer_fee_percent, fees.seller_commission_percent
    return pb.FeeOverride(
        buyer_fee_percent="" if percent is None else str(percent),
        buyer_fee_fixed=[
            pb.FixedFee(amount=str(a), currency_code=c) for c, a in fees.buyer_fee_fixed
        ],
        seller_commission_percent="" if commission is None else str(commission),
    )


def fixed_fees(message: pb.FeeOverride) -> list[tuple[str, str]]:
    """A FeeOverride's fixed fees as (amount, currency) strings, for the handler to check."""
    return [(f.amount, f.currency_code) for f in message.buyer_fee_fixed]


class EventMessages:
    """The message of each event a search answers, made once per copy of the event.

    A search page is the replica's copies (search_sync.py), and a copy is replaced, never
    changed, when its event changes: a message kept with the copy it was made from is that
    copy's for as long as it lives. Making 20 messages took ~0.44 ms of the catalogue's CPU per
    search (of its ~3 ms); a page of kept ones ~0.03 ms. An event read from MongoDB is a new
    object each time, so its message is made again, as before. At most one message per event
    id is kept (with the copy it was made from, until a newer copy replaces it): memory of the
    order of the copies themselves."""

    def __init__(self) -> None:
        self._made: dict[str, tuple[Event, pb.Event]] = {}

    def of(self, event: Event) -> pb.Event:
        made = self._made.get(event.id)
        if made is not None and made[0] is event:
            return made[1]
        message = event_to_proto(event)
        self._made[event.id] = (event, message)
        return message


def event_input(message: pb.EventInput) -> EventInput:
    venue = message.venue
    return EventInput(
        name=message.name,
        performers=[Performer(p.id, p.name) for p in message.performers],
        venue_name=venue.name,
        city=venue.city,
        country=venue.country,
        time_zone=venue.time_zone,
        starts_at=given_time(message, "start_time"),
        ends_at=given_time(message, "end_time"),
        category=category_name(message.category),
        venue_id=venue.id,
    )


def _price(raw: str, field: str) -> Decimal | None:
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(f"{raw!r} is not a decimal amount", field=field) from None
    if not value.is_finite() or value < 0:
        raise InvalidInput("A price bound must be a non-negative amount", field=field)
    return value


def search_filter(message: pb.SearchFilter) -> SearchFilter:
    return SearchFilter(
        city=message.city.strip() or None,
        category=category_name(message.category) or None,
        starts_from=given_time(message, "starts_from"),
        starts_to=given_time(message, "starts_to"),
        price_min=_price(message.price_min, "filter.price_min"),
        price_max=_price(message.price_max, "filter.price_max"),
        has_tickets=message.has_tickets if message.HasField("has_tickets") else None,
    )


def sort_name(value: int) -> str:
    if value == pb.EVENT_SORT_UNSPECIFIED or value not in pb.EventSort.values():
        return EventSort.RELEVANCE.value
    return pb.EventSort.Name(value).removeprefix("EVENT_SORT_")


def facets_to_proto(facets: list[FacetCount]) -> list[pb.FacetCount]:
    return [pb.FacetCount(value=f.value, count=f.count) for f in facets]


def import_row(message: pb.ImportRow) -> ImportRow:
    return ImportRow(
        message.external_ref,
        message.name,
        list(message.performers),
        message.venue_name,
        message.city,
        message.country,
        message.time_zone,
        message.starts_at,
        message.ends_at,
        message.category,
    )


def import_result_to_proto(result: RowResult) -> pb.ImportResult:
    return pb.ImportResult(
        index=result.index,
        external_ref=result.external_ref,
        outcome=pb.ImportOutcome.Value(f"IMPORT_OUTCOME_{Outcome(result.outcome).value}"),
        event_id=result.event_id,
        errors=[pb.RowError(field=e.field or "", message=e.message) for e in result.errors],
    )
