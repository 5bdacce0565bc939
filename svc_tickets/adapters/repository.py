"""Tickets in MongoDB."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from common.idempotency_store import ensure_idempotency_indexes
from common.money import LEGACY_CURRENCY, format_money
from common.mongo import MongoRepository
from common.pagination import NEWEST_FIRST, Page, PageRequest, keyset_page
from svc_tickets.domain.model import Ticket


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.tickets.create_index(NEWEST_FIRST)
    await db.tickets.create_index([("order_id", 1), *NEWEST_FIRST])
    await ensure_idempotency_indexes(db)


class MongoTicketRepository(MongoRepository[Ticket]):
    collection_name = "tickets"

    def to_doc(self, ticket: Ticket) -> dict[str, Any]:
        return {
            "_id": ticket.id,
            "title": ticket.title,
            "price": format_money(ticket.price),
            "user_id": ticket.user_id,
            "version": ticket.version,
            "order_id": ticket.order_id,
            "created_at": ticket.created_at,
            "currency_code": ticket.currency_code,
            "withdrawn": ticket.withdrawn,
        }

    def from_doc(self, doc: dict[str, Any]) -> Ticket:
        return Ticket(
            id=doc["_id"],
            title=doc["title"],
            price=Decimal(doc["price"]),
            user_id=doc["user_id"],
            created_at=doc["created_at"],
            version=doc["version"],
            order_id=doc.get("order_id"),
            # Tickets stored before currencies were recorded were all listed and charged in
            # USD.
            currency_code=doc.get("currency_code", LEGACY_CURRENCY),
            withdrawn=doc.get("withdrawn", False),
        )

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
