"""Orders and the service's copy of tickets, in MongoDB."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from common.idempotency_store import ensure_idempotency_indexes
from common.money import LEGACY_CURRENCY, format_money
from common.mongo import MongoRepository
from common.pagination import NEWEST_FIRST, Page, PageRequest, keyset_page
from common.retries import ConcurrentUpdate
from svc_orders.domain.model import OPEN, CancelReason, Order, OrderStatus, TicketCopy


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.orders.create_index([("user_id", 1), *NEWEST_FIRST])
    # The expiry sweep: open orders whose hold ran out, oldest due first.
    await db.orders.create_index([("status", 1), ("expires_at", 1)])
    await ensure_idempotency_indexes(db)


class MongoOrderRepository(MongoRepository[Order]):
    collection_name = "orders"

    def to_doc(self, order: Order) -> dict[str, Any]:
        return {
            "_id": order.id,
            "user_id": order.user_id,
            "ticket_id": order.ticket_id,
            "price": format_money(order.price),
            "status": order.status.value,
            "cancel_reason": order.cancel_reason.value if order.cancel_reason else None,
            "expires_at": order.expires_at,
            "created_at": order.created_at,
            "version": order.version,
            "currency_code": order.currency_code,
        }

    def from_doc(self, doc: dict[str, Any]) -> Order:
        return Order(
            id=doc["_id"],
            user_id=doc["user_id"],
            ticket_id=doc["ticket_id"],
            price=Decimal(doc["price"]),
            status=OrderStatus(doc["status"]),
            expires_at=doc["expires_at"],
            created_at=doc["created_at"],
            version=doc["version"],
            # None for orders cancelled before the reason was kept.
            cancel_reason=CancelReason(doc["cancel_reason"]) if doc.get("cancel_reason") else None,
            # Orders placed before currencies were recorded were all charged in USD.
            currency_code=doc.get("currency_code", LEGACY_CURRENCY),
        )

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

    async def add(self, ticket: TicketCopy) -> None:
        try:
            await super().add(ticket)
        except DuplicateKeyError:
            # Its TicketCreated and a read-through stored it at once: run again and see it.
            raise ConcurrentUpdate(f"ticket copy {ticket.id} stored meanwhile") from None

    def to_doc(self, ticket: TicketCopy) -> dict[str, Any]:
        return {
            "_id": ticket.id,
            "version": ticket.version,
            "title": ticket.title,
            "price": format_money(ticket.price),
            "user_id": ticket.user_id,
            "held_by": ticket.held_by,
            "currency_code": ticket.currency_code,
            "withdrawn": ticket.withdrawn,
        }

    def from_doc(self, doc: dict[str, Any]) -> TicketCopy:
        return TicketCopy(
            id=doc["_id"],
            version=doc["version"],
            title=doc["title"],
            price=Decimal(doc["price"]),
            user_id=doc["user_id"],
            held_by=doc.get("held_by"),
            # Copies stored before currencies were recorded: those tickets were in USD.
            currency_code=doc.get("currency_code", LEGACY_CURRENCY),
            withdrawn=doc.get("withdrawn", False),
        )

    async def many(self, ticket_ids: list[str]) -> list[TicketCopy]:
        return await self.find({"_id": {"$in": ticket_ids}})
