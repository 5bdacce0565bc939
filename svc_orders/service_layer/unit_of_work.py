from __future__ import annotations

from typing import Protocol

from common.idempotency import IdempotencyRecords
from common.idempotency_store import MongoIdempotencyRecords
from common.mongo import UnitOfWork
from svc_orders.adapters.repository import (
    MongoOrderRepository,
    MongoTicketCopyRepository,
    OrderRepository,
    TicketCopyRepository,
)


class OrdersUnitOfWork(Protocol):
    orders: OrderRepository
    tickets: TicketCopyRepository
    idempotency: IdempotencyRecords

    async def __aenter__(self) -> OrdersUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...

    async def already_processed(self, event_id: str) -> bool: ...


class MongoOrdersUnitOfWork(UnitOfWork):
    orders: MongoOrderRepository
    tickets: MongoTicketCopyRepository
    idempotency: MongoIdempotencyRecords

    async def __aenter__(self) -> MongoOrdersUnitOfWork:
        await super().__aenter__()
        self.orders = MongoOrderRepository(self.db, self)
        self.tickets = MongoTicketCopyRepository(self.db, self)
        self.idempotency = MongoIdempotencyRecords(self.db, self)
        return self
