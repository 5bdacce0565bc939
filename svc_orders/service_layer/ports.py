"""What the handlers need from other services. `adapters.tickets_client` implements it over gRPC;
unit tests use a fake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class HeldSeats:
    seats: tuple[int, ...]  # by index in the listing
    price: Decimal  # per ticket, what the buyer pays
    currency_code: str
    seat_labels: tuple[str, ...] = ()  # when the listing's seats are numbered
    event_id: str = ""  # the listing's catalogue event; empty for a v1 ticket
    seller_id: str = ""  # the listing's seller (its user id)
    # The delivery terms the hold fixed (issue 22): the listing's method (E_TICKET, BARCODE,
    # MOBILE_TRANSFER; empty from an older tickets service) and the deadline (None: not said).
    delivery_method: str = ""
    deliver_by: datetime | None = None
    # The listing after the hold as the tickets service answered it, serialized: relayed to
    # the order's caller as it is, never read here.
    listing: bytes = b""


class SeatHolder(Protocol):
    """The tickets service: the one authority on which order holds which seats."""

    async def hold_seats(
        self, ticket_id: str, quantity: int, order_id: str, buyer: str
    ) -> HeldSeats:
        """The seats the order holds (the same ones when asked again). Raises the user error
        the tickets service answers (NotFound, Forbidden, Conflict with its field) and
        `Unavailable` when it cannot be asked."""
        ...
