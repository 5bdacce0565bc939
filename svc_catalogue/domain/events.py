"""What a catalogue event records when it changes: plain domain events, no wire format. The unit
of work maps each to its integration event (proto/ticketing/events/v1/catalogue.proto) where it
writes the outbox (`svc_catalogue/adapters/outbox_mapping.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from svc_catalogue.domain.fees import FeeOverride
from svc_catalogue.domain.values import Category, EventStatus, Performer, Venue


@dataclass(frozen=True)
class EventChanged:
    """The event as it is after any change (its creation too)."""

    id: str
    version: int
    name: str
    performers: tuple[Performer, ...]
    venue: Venue
    starts_at: datetime
    ends_at: datetime
    category: Category
    status: EventStatus
    external_ref: str
    fee_override: FeeOverride = field(default_factory=FeeOverride)


@dataclass(frozen=True)
class EventStatusChanged:
    id: str
    version: int
    status: EventStatus
    previous_status: EventStatus
    starts_at: datetime
    ends_at: datetime


Event = EventChanged | EventStatusChanged
