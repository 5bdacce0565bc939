"""The orders service's unit of work, as the handlers see it (a port): its repositories and one
transaction. `svc_orders/adapters/unit_of_work.py` implements it on MongoDB; the unit tests' fakes
in memory; `bootstrap.py` chooses."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from common.idempotency import IdempotencyRecords
from common.pagination import Page, PageRequest
from svc_orders.domain.model import Order


class OrderRepository(Protocol):
    async def get(self, order_id: str) -> Order | None: ...

    async def add(self, order: Order) -> None: ...

    async def save(self, order: Order) -> None: ...

    async def page_of(self, user_id: str, request: PageRequest) -> Page[Order]: ...

    async def count_of(self, user_id: str) -> int: ...

    async def many(self, order_ids: list[str]) -> list[Order]: ...

    async def overdue_ids(self, due_before: datetime, limit: int) -> list[str]: ...

    async def delete(self, order: Order) -> None: ...

    async def open_ids_of_event(self, event_id: str, limit: int) -> list[str]: ...


class OrdersUnitOfWork(Protocol):
    orders: OrderRepository
    idempotency: IdempotencyRecords

    async def __aenter__(self) -> OrdersUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...

    async def already_processed(self, event_id: str) -> bool: ...
