"""The orders service's unit of work on MongoDB: orders and idempotency keys in one
transaction, with the events the aggregates recorded written to the outbox as integration
events (`outbox_mapping.to_integration`)."""

from __future__ import annotations

from common.idempotency_store import MongoIdempotencyRecords
from common.mongo import UnitOfWork
from svc_orders.adapters.outbox_mapping import to_integration
from svc_orders.adapters.repository import MongoOrderRepository


class MongoOrdersUnitOfWork(UnitOfWork):
    orders: MongoOrderRepository
    idempotency: MongoIdempotencyRecords
    to_integration = staticmethod(to_integration)

    async def __aenter__(self) -> MongoOrdersUnitOfWork:
        await super().__aenter__()
        self.orders = MongoOrderRepository(self.db, self)
        self.idempotency = MongoIdempotencyRecords(self.db, self)
        return self
