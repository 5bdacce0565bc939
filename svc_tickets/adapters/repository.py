"""Tickets in MongoDB."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase

from common.money import format_money
from common.mongo import MongoRepository
from common.pagination import NEWEST_FIRST, Cursor
from svc_tickets.domain.model import Ticket


class TicketRepository(Protocol):
    async def get(self, ticket_id: str) -> Ticket | None: ...

    async def add(self, ticket: Ticket) -> None: ...

    async def save(self, ticket: Ticket) -> None: ...

    async def page(
        self, limit: int, after: Cursor | None, include_reserved: bool
    ) -> list[Ticket]: ...

    async def many(self, ids: list[str]) -> list[Ticket]: ...

    async def remember_cancelled(self, order_id: str) -> None: ...

    async def remember_created(self, order_id: str) -> bool:
        """Notes that the order's creation arrived; True if it was cancelled before."""
        ...


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.tickets.create_index(NEWEST_FIRST)
    await db.tickets.create_index([("order_id", 1), *NEWEST_FIRST])


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
        )

    async def page(self, limit: int, after: Cursor | None, include_reserved: bool) -> list[Ticket]:
        query: dict[str, Any] = {} if include_reserved else {"order_id": None}
        if after is not None:
            query = {"$and": [query, after.after_filter()]}
        return await self.find(query, sort=NEWEST_FIRST, limit=limit)

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
