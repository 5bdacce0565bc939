"""When a listing's seller must have delivered an order's seats (issue 22): fixed when the seats
are held, so that later edits of the listing or the settings never move an order's deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from common.errors import InvalidInput


@dataclass(frozen=True)
class DeliveryTerms:
    # The default deadline of a listing for an event: this long before the event's start.
    before_event: timedelta = timedelta(hours=2)
    # A v1 ticket's (no event): this long after its seats were held.
    without_event: timedelta = timedelta(hours=48)

    def deadline(
        self, own: datetime | None, event_starts: datetime | None, now: datetime
    ) -> datetime:
        """The listing's own deadline if it has one still before the event's start (the event
        may have moved since), else the default. A deadline already past when the seats are
        held (a purchase within `before_event` of the start) becomes the event's start."""
        if event_starts is None:
            return now + self.without_event
        deadline = (
            own if own is not None and own < event_starts else event_starts - self.before_event
        )
        return deadline if deadline > now else event_starts


def check_own_deadline(own: datetime, event_starts: datetime | None, now: datetime) -> datetime:
    """A seller's own deadline: only for a listing of an event, after now and before the
    event's start."""
    if event_starts is None:
        raise InvalidInput("A delivery deadline needs an event", field="deliver_by")
    if own <= now:
        raise InvalidInput("The delivery deadline has passed", field="deliver_by")
    if own >= event_starts:
        raise InvalidInput(
            "The delivery deadline must be before the event's start", field="deliver_by"
        )
    return own
