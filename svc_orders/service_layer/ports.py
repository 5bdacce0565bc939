"""What the handlers need from other services. `adapters.tickets_client` implements it over gRPC;
unit tests use a fake."""

from __future__ import annotations

from typing import Protocol

from svc_orders.domain.model import TicketCopy


class TicketSource(Protocol):
    async def get_ticket(self, ticket_id: str) -> TicketCopy | None:
        """The ticket as the tickets service (its authority) has it now, as a copy held by no
        order; None when it does not exist. Raises `Unavailable` when it cannot be asked."""
        ...
