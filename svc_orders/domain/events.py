"""What an order records when it changes: plain domain events, no wire format. The unit of work
maps each to its integration event (proto/ticketing/events/v1/orders.proto) where it writes the
outbox (`svc_orders/adapters/outbox_mapping.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from svc_orders.domain.model import CancelReason, OrderStatus


@dataclass(frozen=True)
class OrderCreated:
    """An order placed: it holds `quantity` seats until `expires_at`, at `price` each."""

    id: str
    version: int
    status: OrderStatus
    user_id: str
    expires_at: datetime
    ticket_id: str
    price: Decimal
    currency_code: str
    quantity: int = 1
    seller_id: str = ""  # the listing's seller, paid the proceeds
    event_id: str = ""  # the listing's catalogue event (empty for a v1 ticket)
    delivery_method: str = ""  # E_TICKET, BARCODE, MOBILE_TRANSFER; "" when not said
    deliver_by: datetime | None = None
    seat_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderUpdated:
    """The order moved on (awaiting payment, paid)."""

    id: str
    version: int
    status: OrderStatus
    user_id: str


@dataclass(frozen=True)
class OrderCancelled:
    """The order ended without a sale; its seats are for sale again. `never_placed`: it ended
    before it was placed (no OrderCreated went out), so only the seats' holder cares."""

    id: str
    version: int
    ticket_id: str
    reason: CancelReason
    never_placed: bool = False


Event = OrderCreated | OrderUpdated | OrderCancelled
