"""A catalogue event (a concert, a game): what operators create, change and whose status they
move; the summary of its listings is kept beside it, learnt from listings' events.

Pure: the aggregate records plain domain events (`domain/events.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from common.clock import stored_precision
from common.errors import Conflict, InvalidInput
from svc_catalogue.domain import events
from svc_catalogue.domain.fees import FeeOverride
from svc_catalogue.domain.listings import ListingSummary
from svc_catalogue.domain.search import SearchDocument
from svc_catalogue.domain.values import (
    Category,
    EventDetails,
    EventStatus,
    Performer,
    Venue,
    check_times,
)

# Where an event may go from each status. Nothing leaves CANCELLED; RESCHEDULED may be asked
# again (new times again); SCHEDULED again is a postponed event back on its own dates.
TRANSITIONS: dict[EventStatus, frozenset[EventStatus]] = {
    EventStatus.SCHEDULED: frozenset(
        {EventStatus.POSTPONED, EventStatus.RESCHEDULED, EventStatus.CANCELLED}
    ),
    EventStatus.POSTPONED: frozenset(
        {EventStatus.SCHEDULED, EventStatus.RESCHEDULED, EventStatus.CANCELLED}
    ),
    EventStatus.RESCHEDULED: frozenset(
        {EventStatus.POSTPONED, EventStatus.RESCHEDULED, EventStatus.CANCELLED}
    ),
    EventStatus.CANCELLED: frozenset(),
}


@dataclass
class Event:
    id: str
    name: str
    performers: tuple[Performer, ...]
    venue: Venue
    starts_at: datetime
    ends_at: datetime
    category: Category
    created_at: datetime
    status: EventStatus = EventStatus.SCHEDULED
    version: int = 0
    # The operator's key for a bulk import (unique when set); "" for an event created alone.
    external_ref: str = ""
    # The event's own fees (svc_catalogue/domain/fees.py); empty: the payments settings'.
    fee_override: FeeOverride = field(default_factory=FeeOverride)
    # Kept from listings' events (svc_catalogue/service_layer/listing_summaries.py), never
    # changed by the aggregate's own methods.
    summary: ListingSummary = field(default_factory=ListingSummary)
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(cls, id: str, details: EventDetails, now: datetime, external_ref: str = "") -> Event:
        event = cls(
            id,
            details.name,
            details.performers,
            details.venue,
            details.starts_at,
            details.ends_at,
            details.category,
            now,
            external_ref=external_ref,
        )
        event._record_changed()
        return event

    @property
    def details(self) -> EventDetails:
        return EventDetails(
            self.name, self.performers, self.venue, self.starts_at, self.ends_at, self.category
        )

    def check_version(self, expected: int, asked_done: bool) -> bool:
        """The client's `expected` version (DOM-4): True when the event is at it; False when it
        already is what the request asks (`asked_done`) one version later: our own change,
        answered again. Otherwise CONFLICT on expected_version."""
        if self.version == expected:
            return True
        if self.version == expected + 1 and asked_done:
            return False
        raise Conflict(
            f"The event changed since version {expected} (it is at {self.version}); read it again",
            field="expected_version",
        )

    def update(self, details: EventDetails) -> bool:
        """New name, performers, venue, times and category; False (nothing recorded) when they
        are what the event already has."""
        if details == self.details:
            return False
        if self.status is EventStatus.CANCELLED:
            raise Conflict("A cancelled event cannot be changed", field="id")
        self.name, self.performers, self.venue = details.name, details.performers, details.venue
        self.starts_at, self.ends_at, self.category = (
            details.starts_at,
            details.ends_at,
            details.category,
        )
        self.version += 1
        self._record_changed()
        return True

    def set_fees(self, override: FeeOverride) -> bool:
        """The event's own fees from now on (every part: an empty one is the setting's); False
        (nothing recorded) when they are what the event already has."""
        if override == self.fee_override:
            return False
        if self.status is EventStatus.CANCELLED:
            raise Conflict("A cancelled event cannot be changed", field="id")
        self.fee_override = override
        self.version += 1
        self._record_changed()
        return True

    def is_status(
        self, status: EventStatus, starts_at: datetime | None, ends_at: datetime | None
    ) -> bool:
        """Whether the event already is what a status change asks (a retried request)."""
        if status is not self.status:
            return False
        if status is EventStatus.RESCHEDULED:
            if starts_at is None or ends_at is None:
                return False
            asked = (stored_precision(starts_at), stored_precision(ends_at))
            return asked == (self.starts_at, self.ends_at)
        return True

    def change_status(
        self,
        status: EventStatus,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
    ) -> None:
        """Postponed, rescheduled (to new times, required), cancelled (final) or scheduled
        again. A transition the event cannot make is a CONFLICT on `status`."""
        if status not in TRANSITIONS[self.status]:
            if self.status is EventStatus.CANCELLED:
                message = "A cancelled event cannot change status"
            elif status is self.status:
                message = f"The event already is {status.value}"
            else:
                message = f"An event {self.status.value} cannot become {status.value}"
            raise Conflict(message, field="status")
        if status is EventStatus.RESCHEDULED:
            if starts_at is None or ends_at is None:
                raise InvalidInput("Rescheduling needs the new start and end", field="starts_at")
            self.starts_at, self.ends_at = check_times(starts_at, ends_at)
        previous, self.status = self.status, status
        self.version += 1
        self.events.append(
            events.EventStatusChanged(
                self.id, self.version, status, previous, self.starts_at, self.ends_at
            )
        )
        self._record_changed()

    def with_summary(self, summary: ListingSummary) -> Event:
        return replace(self, summary=summary, events=[])

    def search_document(self) -> SearchDocument:
        """The event as search sees it, with its listings' summary."""
        return SearchDocument(
            event_id=self.id,
            name=self.name,
            performers=tuple(p.name for p in self.performers),
            venue_name=self.venue.name,
            city=self.venue.city,
            country=self.venue.country,
            category=self.category.value,
            starts_at=self.starts_at,
            status=self.status.value,
            lowest_price=self.summary.lowest_price,
            currency_code=self.summary.currency_code,
            tickets_for_sale=self.summary.tickets_for_sale,
        )

    def _record_changed(self) -> None:
        self.events.append(
            events.EventChanged(
                id=self.id,
                version=self.version,
                name=self.name,
                performers=self.performers,
                venue=self.venue,
                starts_at=self.starts_at,
                ends_at=self.ends_at,
                category=self.category,
                status=self.status,
                external_ref=self.external_ref,
                fee_override=self.fee_override,
            )
        )
