"""What the catalogue's handlers are asked: commands as plain data, made by the servicer from a
request (or by the import from a row), checked by the domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from common.errors import InvalidInput
from svc_catalogue.domain.search import SearchFilter
from svc_catalogue.domain.values import (
    EventDetails,
    EventStatus,
    Performer,
    check_details,
    check_venue,
)


@dataclass(frozen=True)
class EventInput:
    """An event as an operator gives it. Empty ids are derived from the names."""

    name: str
    performers: list[Performer] | list[str]
    venue_name: str
    city: str
    country: str
    time_zone: str
    starts_at: datetime | InvalidInput | None
    ends_at: datetime | InvalidInput | None
    category: str
    venue_id: str = ""

    def checked(self) -> EventDetails:
        """Every field checked; all failures at once (`InvalidDetails`)."""
        try:
            venue = check_venue(
                self.venue_name, self.city, self.country, self.time_zone, self.venue_id
            )
        except InvalidInput as exc:
            return check_details(
                self.name, self.performers, exc, self.starts_at, self.ends_at, self.category
            )
        return check_details(
            self.name, self.performers, venue, self.starts_at, self.ends_at, self.category
        )


@dataclass(frozen=True)
class Operator:
    """Who asks for a change: only an admin may make one."""

    user_id: str
    is_admin: bool


@dataclass(frozen=True)
class CreateEvent:
    by: Operator
    event: EventInput
    idempotency_key: str


@dataclass(frozen=True)
class UpdateEvent:
    by: Operator
    event_id: str
    event: EventInput
    expected_version: int


@dataclass(frozen=True)
class SetEventFees:
    """An event's own fees, as the operator gives them (strings, checked by the handler):
    `buyer_fee_fixed` as (amount, currency) pairs."""

    by: Operator
    event_id: str
    buyer_fee_percent: str
    buyer_fee_fixed: list[tuple[str, str]]
    seller_commission_percent: str
    expected_version: int


@dataclass(frozen=True)
class ChangeEventStatus:
    by: Operator
    event_id: str
    status: EventStatus | None  # None: the request named none
    expected_version: int
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True)
class SearchEvents:
    text: str = ""
    filter: SearchFilter = field(default_factory=SearchFilter)
    sort: str = "RELEVANCE"
    page_size: int = 0
    page_token: str = ""
    include_cancelled: bool = False
    offset: int = 0  # without page_token: where the page starts


@dataclass(frozen=True)
class ImportRow:
    """One row of an import file, as strings (performer names already split)."""

    external_ref: str
    name: str
    performers: list[str]
    venue_name: str
    city: str
    country: str
    time_zone: str
    starts_at: str
    ends_at: str
    category: str
