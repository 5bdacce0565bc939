from __future__ import annotations

from typing import Protocol

from common.idempotency import IdempotencyRecords
from common.idempotency_store import MongoIdempotencyRecords
from common.mongo import UnitOfWork
from svc_tickets.adapters.repository import MongoTicketRepository, TicketRepository


class TicketsUnitOfWork(Protocol):
    tickets: TicketRepository
    idempotency: IdempotencyRecords

    async def __aenter__(self) -> TicketsUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...

    async def already_processed(self, event_id: str) -> bool: ...


class MongoTicketsUnitOfWork(UnitOfWork):
    tickets: MongoTicketRepository
    idempotency: MongoIdempotencyRecords

    async def __aenter__(self) -> MongoTicketsUnitOfWork:
        await super().__aenter__()
        self.tickets = MongoTicketRepository(self.db, self)
        self.idempotency = MongoIdempotencyRecords(self.db, self)
        return self
