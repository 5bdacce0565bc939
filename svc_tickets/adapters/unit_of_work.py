"""The tickets service's unit of work on MongoDB: tickets and idempotency keys in one
transaction, with the events the tickets recorded written to the outbox as integration events
(`outbox_mapping.to_integration`)."""

from __future__ import annotations

from common.idempotency_store import MongoIdempotencyRecords
from common.mongo import UnitOfWork
from svc_tickets.adapters.outbox_mapping import to_integration
from svc_tickets.adapters.repository import MongoTicketRepository


class MongoTicketsUnitOfWork(UnitOfWork):
    tickets: MongoTicketRepository
    idempotency: MongoIdempotencyRecords
    to_integration = staticmethod(to_integration)

    async def __aenter__(self) -> MongoTicketsUnitOfWork:
        await super().__aenter__()
        self.tickets = MongoTicketRepository(self.db, self)
        self.idempotency = MongoIdempotencyRecords(self.db, self)
        return self
