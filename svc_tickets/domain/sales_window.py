"""When a listing for a catalogue event may sell (issue 20; docs/design/marketplace.md, decision
3): the tickets service's view of each event's start and status, kept from the catalogue's
EventChanged / EventStatusChanged in version order. The catalogue is the authority on events;
this is what tickets needs of them to decide a hold in its own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from common.errors import Conflict

ON_SALE = frozenset({"SCHEDULED", "RESCHEDULED"})


@dataclass
class SalesWindow:
    event_id: str
    starts_at: datetime
    status: str  # the catalogue's EventStatus name
    version: int

    def apply(self, version: int, starts_at: datetime, status: str) -> bool:
        """A newer state of the event; False (unchanged) for one already seen."""
        if version <= self.version:
            return False
        self.version, self.starts_at, self.status = version, starts_at, status
        return True

    def check_open(self, now: datetime) -> None:
        """Listing and holding seats: only for an event that goes ahead and has not started."""
        if self.status == "CANCELLED":
            raise Conflict("The event is cancelled", field="event_id")
        if self.status not in ON_SALE:
            raise Conflict("Sales are paused: the event is postponed", field="event_id")
        if now >= self.starts_at:
            raise Conflict("Sales have ended: the event has started", field="event_id")
