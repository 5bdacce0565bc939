"""What the delivery service is asked, as plain values (the servicer makes them from requests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from svc_delivery.domain.methods import DeliveryMethod, DeliveryStatus


@dataclass(frozen=True)
class Caller:
    user_id: str
    is_admin: bool = False
    # The address of the caller's session (the token's `email` claim): whom transfers are
    # offered to.
    email: str = ""


@dataclass(frozen=True)
class OpenDelivery:
    """An order was placed (OrderCreated), with the terms fixed when its seats were held."""

    order_id: str
    order_version: int
    buyer_id: str
    seller_id: str
    listing_id: str
    event_id: str
    method: DeliveryMethod
    deliver_by: datetime | None
    quantity: int
    seat_labels: tuple[str, ...]
    # When the order was placed (None: the message did not say; then when it is applied).
    created_at: datetime | None


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    seat: int


@dataclass(frozen=True)
class ListMine:
    caller: Caller
    as_seller: bool
    statuses: list[DeliveryStatus]
    page_size: int
    page_token: str
