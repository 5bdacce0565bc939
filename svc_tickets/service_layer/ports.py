"""What the handlers need from other services. `adapters.orders_client` implements it over gRPC;
unit tests use a fake."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class TicketEdit:
    ticket_id: str
    version: int  # the ticket's version once the edit is committed
    title: str
    price: Decimal
    withdraw: bool = False  # the seller takes it off sale (title and price unchanged)


class HoldAuthority(Protocol):
    """The orders service: it decides which order holds a ticket, so an edit is settled there,
    against the orders being placed, before it is committed here."""

    async def apply_edit(self, edit: TicketEdit, token: str | None) -> None:
        """Every order placed from now on carries the edit. Raises `Conflict` while an order
        holds the ticket, `Forbidden` unless the token's user sells it, `Unavailable` when
        the orders service cannot be asked. `token` is the seller's own."""
        ...
