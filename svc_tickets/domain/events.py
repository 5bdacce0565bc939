"""What a ticket records when it changes: plain domain events, no wire format. The unit of work
maps each to its integration event (proto/ticketing/events/v1/tickets.proto) where it writes the
outbox (`svc_tickets/adapters/outbox_mapping.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class TicketCreated:
    id: str
    version: int
    title: str
    price: Decimal
    user_id: str
    currency_code: str
    event_id: str = ""
    quantity: int = 1
    available: int = 1


@dataclass(frozen=True)
class TicketUpdated:
    """The listing as it is after any change: an edit, a withdrawal, a hold, a release or a
    sale. `order_id` is the holder of a one-seat listing (a v1 ticket), None otherwise."""

    id: str
    version: int
    title: str
    price: Decimal
    user_id: str
    order_id: str | None
    currency_code: str
    withdrawn: bool
    event_id: str = ""
    quantity: int = 1
    available: int = 0
    state: str = "FOR_SALE"  # a TicketState value


Event = TicketCreated | TicketUpdated
