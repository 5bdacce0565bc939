"""What the event recommender learns from, folded from the rows of the `events` table: the
catalogue's events (their performers, category, city, status and start, from event.changed), the
catalogue event each listing is for (ticket.*), and who showed interest in which event: an event
page viewed (event.viewed), a listing of it viewed, an order started or placed on one, an order
paid. It rides on the tickets' fold (marketplace.py), which already resolves orders, payments and
visitors linked to their accounts; a ticket's interaction counts for its listing's event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from svc_insights.domain.model import EventRow
from svc_insights.domain.recommender.marketplace import (
    TYPES as TICKET_FOLD_TYPES,
)
from svc_insights.domain.recommender.marketplace import (
    Interaction,
    Kind,
    Marketplace,
    anonymous_actor,
    user_actor,
)

CATALOGUE_TYPES = frozenset({"event.changed", "event.status_changed"})
EVENT_VIEWED = "event.viewed"
# Every type the fold reads; the store can leave the rest out.
TYPES = TICKET_FOLD_TYPES | CATALOGUE_TYPES | {EVENT_VIEWED}
# An event in one of these is not recommended: nobody can go any more.
GONE = frozenset({"CANCELLED"})


@dataclass
class CatalogueEvent:
    event_id: str
    performers: tuple[str, ...] = ()
    category: str = ""
    city: str = ""
    status: str = "SCHEDULED"
    starts_at: datetime | None = None
    version: int = -1


@dataclass(frozen=True)
class EventInteraction:
    actor: str
    event_id: str
    kind: Kind
    at: datetime


def _detail(row: EventRow) -> dict:
    try:
        detail = json.loads(row.detail or "{}")
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


def _when(raw: object) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is None else when.astimezone(UTC).replace(tzinfo=None)


@dataclass
class EventMarketplace:
    """The fold. `add` one row at a time (any order), then read `events`, `listing_events`,
    `interactions` and `events_for_sale`."""

    tickets: Marketplace = field(default_factory=Marketplace)
    events: dict[str, CatalogueEvent] = field(default_factory=dict)
    listing_events: dict[str, str] = field(default_factory=dict)  # ticket id -> event id
    _views: list[EventInteraction] = field(default_factory=list)

    @classmethod
    def of(cls, rows: Iterable[EventRow]) -> EventMarketplace:
        market = cls()
        for row in rows:
            market.add(row)
        return market

    @property
    def latest(self) -> datetime | None:
        return self.tickets.latest

    def add(self, row: EventRow) -> None:
        self.tickets.add(row)
        if row.type in CATALOGUE_TYPES:
            self._catalogue(row)
        elif row.type == EVENT_VIEWED and row.catalogue_event_id:
            actor = (
                user_actor(row.user_id)
                if row.user_id
                else anonymous_actor(row.anonymous_id)
                if row.anonymous_id
                else None
            )
            if actor is not None:
                viewed = EventInteraction(
                    actor, row.catalogue_event_id, Kind.VIEWED, row.occurred_at
                )
                self._views.append(viewed)
        elif row.ticket_id and row.catalogue_event_id and row.type.startswith("ticket."):
            self.listing_events[row.ticket_id] = row.catalogue_event_id

    def _catalogue(self, row: EventRow) -> None:
        detail = _detail(row)
        event_id = detail.get("eventId")
        if not isinstance(event_id, str) or not event_id:
            return
        version = detail.get("version")
        version = version if isinstance(version, int) else 0
        event = self.events.setdefault(event_id, CatalogueEvent(event_id))
        if version < event.version:
            return
        event.version = version
        if isinstance(status := detail.get("status"), str) and status:
            event.status = status
        if (starts_at := _when(detail.get("startsAt"))) is not None:
            event.starts_at = starts_at
        if row.type == "event.changed":
            performers = detail.get("performers")
            if isinstance(performers, list):
                event.performers = tuple(p for p in performers if isinstance(p, str))
            event.category = str(detail.get("category") or event.category)
            event.city = str(detail.get("city") or event.city)

    def interactions(self) -> list[EventInteraction]:
        """Every interaction with an event: its page viewed, or one of its listings viewed,
        ordered or bought (a visitor's under their account once the two were linked)."""
        out = [self._of_ticket(item) for item in self.tickets.interactions()]
        linked = [item for item in out if item is not None]
        for view in self._views:
            if view.actor.startswith("a:"):
                user = self.tickets.account_of(view.actor[2:])
                if user is not None:
                    view = EventInteraction(user_actor(user), view.event_id, view.kind, view.at)
            linked.append(view)
        return linked

    def _of_ticket(self, item: Interaction) -> EventInteraction | None:
        event_id = self.listing_events.get(item.ticket_id)
        if event_id is None:
            return None
        return EventInteraction(item.actor, event_id, item.kind, item.at)

    def events_for_sale(self, now: datetime) -> set[str]:
        """The events one can still go to and buy a seat for: not cancelled, not started, with a
        listing for sale."""
        listed = {
            self.listing_events[t]
            for t, listing in self.tickets.listings.items()
            if listing.for_sale and t in self.listing_events
        }
        return {
            event_id
            for event_id in listed
            if (event := self.events.get(event_id)) is None
            or (event.status not in GONE and (event.starts_at is None or event.starts_at > now))
        }
