"""The payments service's unit of work: order copies, payments, charge leases and idempotency
keys in one Mongo transaction, with the events the payments recorded going to the outbox at
commit."""

from __future__ import annotations

from typing import Protocol

from common.mongo import UnitOfWork
from svc_payments.adapters.repository import (
    ChargeLeaseRepository,
    IdempotencyRepository,
    MongoChargeLeaseRepository,
    MongoIdempotencyRepository,
    MongoOrderRepository,
    MongoPaymentRepository,
    OrderRepository,
    PaymentRepository,
)


class PaymentsUnitOfWork(Protocol):
    orders: OrderRepository
    payments: PaymentRepository
    leases: ChargeLeaseRepository
    keys: IdempotencyRepository

    async def __aenter__(self) -> PaymentsUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...

    async def already_processed(self, event_id: str) -> bool: ...


class MongoPaymentsUnitOfWork(UnitOfWork):
    orders: MongoOrderRepository
    payments: MongoPaymentRepository
    leases: MongoChargeLeaseRepository
    keys: MongoIdempotencyRepository

    async def __aenter__(self) -> MongoPaymentsUnitOfWork:
        await super().__aenter__()
        self.orders = MongoOrderRepository(self.db, self)
        self.payments = MongoPaymentRepository(self.db, self)
        self.leases = MongoChargeLeaseRepository(self.db, self)
        self.keys = MongoIdempotencyRepository(self.db, self)
        return self
