"""What the schedule knows about one order, and the event its expiry is."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

# Event ids of OrderExpired are derived from the order id (see `expired_event_id`).
_EXPIRED_IDS = uuid.UUID("6f1d3c52-8a4e-4f0b-9c1e-2b7d5e8a9f30")


class ExpirationState(Enum):
    SCHEDULED = "SCHEDULED"  # waiting for its due time
    FIRING = "FIRING"  # due, and claimed by a replica until `lease_until`


@dataclass(frozen=True)
class Expiration:
    order_id: str
    expires_at: datetime
    state: ExpirationState
    lease_until: datetime | None = None


def expired_event_id(order_id: str) -> str:
    """An order expires once, so every publication of its OrderExpired (a replica that re-fires
    after a lease ran out) is the same event, with the same id: consumers drop the repeat."""
    return str(uuid.uuid5(_EXPIRED_IDS, order_id))
