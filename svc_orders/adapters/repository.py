"""Orders and the service's copy of tickets, in MongoDB."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from common.documents import MONEY, Document, EnumValue, Field, OptionalEnum
from common.idempotency_store import ensure_idempotency_indexes
from common.money import LEGACY_CURRENCY
from common.mongo import MongoRepository
from common.pagination import NEWEST_FIRST, Page, PageRequest, keyset_page
from common.retries import ConcurrentUpdate
from svc_orders.domain.model import OPEN, CancelReason, Order, OrderStatus, TicketCopy


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.orders.create_index([("user_id", 1), *NEWEST_FIRST])
    # The expiry sweep: open orders whose hold ran out, oldest due first.
    await db.orders.create_index([("status", 1), ("expires_at", 1)])
    await ensure_idempotency_indexes(db)


ORDERS = Document(
    Order,
    {
        "_id": Field("id"),
        "user_id": Field("user_id"),
        "ticket_id": Field("ticket_id"),
        "price": Field("price", MONEY),
        "status": Field("status", EnumValue(OrderStatus)),
        # None for orders cancelled before the reason was kept.
        "cancel_reason": Field("cancel_reason", OptionalEnum(CancelReason), missing=None),
        "expires_at": Field("expires_at"),
        "created_at": Field("created_at"),
        "version": Field("version"),
        # Orders placed before currencies were recorded were all charged in USD.
        "currency_code": Field("currency_code", missing=LEGACY_CURRENCY),
    },
)

TICKET_COPIES = Document(
    TicketCopy,
    {
        "_id": Field("id"),
        "version": Field("version"),
        "title": Field("title"),
        "price": Field("price", MONEY),
        "user_id": Field("user_id"),
        "held_by": Field("held_by", missing=None),
        # Copies stored before currencies were recorded: those tickets were in USD.
        "currency_code": Field("currency_code", missing=LEGACY_CURRENCY),
        "withdrawn": Field("withdrawn", missing=False),
    },
)


class MongoOrderRepository(MongoRepository[Order]):
    collection_name = "orders"
    document = ORDERS

    async def page_of(self, user_id: str, request: PageRequest) -> Page[Order]:
        return await keyset_page({"user_id": user_id}, request, self._find)

    async def _find(self, query: dict[str, Any], sort, limit: int) -> list[Order]:
        return await self.find(query, sort=list(sort), limit=limit)

    async def count_of(self, user_id: str) -> int:
        return await self.collection.count_documents({"user_id": user_id}, session=self.uow.session)

    async def many(self, order_ids: list[str]) -> list[Order]:
        return await self.find({"_id": {"$in": order_ids}})

    async def overdue_ids(self, due_before: datetime, limit: int) -> list[str]:
        """Open orders due before `due_before`, the longest overdue first."""
        cursor = self.collection.find(
            {"status": {"$in": [s.value for s in OPEN]}, "expires_at": {"$lt": due_before}},
            {"_id": 1},
            session=self.uow.session,
            sort=[("expires_at", 1)],
            limit=limit,
        )
        return [doc["_id"] async for doc in cursor]


class MongoTicketCopyRepository(MongoRepository[TicketCopy]):
    collection_name = "tickets"
    document = TICKET_COPIES

    async def add(self, ticket: TicketCopy) -> None:
        try:
            await super().add(ticket)
        except DuplicateKeyError:
            # Its TicketCreated and a read-through stored it at once: run again and see it.
            raise ConcurrentUpdate(f"ticket copy {ticket.id} stored meanwhile") from None

    async def many(self, ticket_ids: list[str]) -> list[TicketCopy]:
        return await self.find({"_id": {"$in": ticket_ids}})
