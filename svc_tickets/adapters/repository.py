"""Tickets in MongoDB."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from common.documents import MONEY, Document, Field
from common.idempotency_store import ensure_idempotency_indexes
from common.money import LEGACY_CURRENCY
from common.mongo import MongoRepository
from common.pagination import NEWEST_FIRST, Page, PageRequest, keyset_page
from svc_tickets.domain.model import Ticket


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.tickets.create_index(NEWEST_FIRST)
    await db.tickets.create_index([("order_id", 1), *NEWEST_FIRST])
    await ensure_idempotency_indexes(db)


TICKETS = Document(
    Ticket,
    {
        "_id": Field("id"),
        "title": Field("title"),
        "price": Field("price", MONEY),
        "user_id": Field("user_id"),
        "version": Field("version"),
        "order_id": Field("order_id", missing=None),
        "created_at": Field("created_at"),
        # Tickets stored before currencies were recorded were all listed and charged in USD.
        "currency_code": Field("currency_code", missing=LEGACY_CURRENCY),
        "withdrawn": Field("withdrawn", missing=False),
    },
)


class MongoTicketRepository(MongoRepository[Ticket]):
    collection_name = "tickets"
    document = TICKETS

    async def page(self, request: PageRequest, include_reserved: bool) -> Page[Ticket]:
        # Withdrawn tickets are never listed (a field absent on older tickets: not withdrawn).
        query: dict[str, Any] = {"withdrawn": {"$ne": True}}
        if not include_reserved:
            query["order_id"] = None
        return await keyset_page(query, request, self._find)

    async def _find(self, query: dict[str, Any], sort, limit: int) -> list[Ticket]:
        return await self.find(query, sort=list(sort), limit=limit)

    async def many(self, ids: list[str]) -> list[Ticket]:
        return await self.find({"_id": {"$in": ids}})

    # One document per order whose events arrived here, written by both its creation and its
    # cancellation: handled at the same time (consumers run concurrently), the two transactions
    # write the same document, so one of them conflicts and runs again after the other. Reading
    # alone would let each miss the other's write (write skew) and the ticket stay reserved.

    async def remember_cancelled(self, order_id: str) -> None:
        await self.collection.database.order_marks.update_one(
            {"_id": order_id}, {"$set": {"cancelled": True}}, upsert=True, session=self.uow.session
        )

    async def remember_created(self, order_id: str) -> bool:
        marks = self.collection.database.order_marks
        before = await marks.find_one({"_id": order_id}, session=self.uow.session)
        await marks.update_one(
            {"_id": order_id}, {"$set": {"created": True}}, upsert=True, session=self.uow.session
        )
        return before is not None and bool(before.get("cancelled"))
