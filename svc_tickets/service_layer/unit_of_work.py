"""The tickets service's unit of work, as the handlers see it (a port): its repositories and one
transaction. `svc_tickets/adapters/unit_of_work.py` implements it on MongoDB; the unit tests'
fakes in memory; `bootstrap.py` chooses."""

from __future__ import annotations

from typing import Protocol

from common.idempotency import IdempotencyRecords
from common.pagination import Page, PageRequest
from svc_tickets.domain.model import Ticket
from svc_tickets.domain.sales_window import SalesWindow


class TicketRepository(Protocol):
    async def get(self, ticket_id: str) -> Ticket | None: ...

    async def add(self, ticket: Ticket) -> None: ...

    async def save(self, ticket: Ticket) -> None: ...

    async def page(self, request: PageRequest, include_reserved: bool) -> Page[Ticket]: ...

    async def many(self, ids: list[str]) -> list[Ticket]: ...

    async def of_event(
        self, event_id: str, limit: int, after: tuple[int, str] | None
    ) -> list[Ticket]: ...

    async def page_of_seller(self, seller: str, request: PageRequest) -> Page[Ticket]: ...

    async def window_of(self, event_id: str) -> SalesWindow | None: ...

    async def save_window(self, window: SalesWindow) -> None: ...

    async def holding(self, order_id: str) -> Ticket | None:
        """The listing the order holds (or bought) seats of."""
        ...

    async def remember_ended(self, order_id: str) -> None:
        """Notes that the order ended (its OrderCancelled arrived): no hold for it from now."""
        ...

    async def remember_hold(self, order_id: str) -> bool:
        """Notes that the order asks for seats; True if it has already ended."""
        ...


class TicketsUnitOfWork(Protocol):
    tickets: TicketRepository
    idempotency: IdempotencyRecords

    async def __aenter__(self) -> TicketsUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...

    async def already_processed(self, event_id: str) -> bool: ...
