"""What a delivery records when it changes: plain domain events, no wire format. The unit of work
maps each to its integration event (proto/ticketing/events/v1/delivery.proto) where it writes the
outbox (`svc_delivery/adapters/outbox_mapping.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from svc_delivery.domain.methods import DeliveryMethod


@dataclass(frozen=True)
class DeliveryCompleted:
    order_id: str
    seller_id: str
    buyer_id: str
    event_id: str
    method: DeliveryMethod
    delivered_at: datetime
    quantity: int


@dataclass(frozen=True)
class DeliveryMissed:
    order_id: str
    seller_id: str
    buyer_id: str
    event_id: str
    deliver_by: datetime


@dataclass(frozen=True)
class DeliveryDeadlineApproaching:
    order_id: str
    seller_id: str
    deliver_by: datetime


Event = DeliveryCompleted | DeliveryMissed | DeliveryDeadlineApproaching
