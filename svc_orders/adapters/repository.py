"""Orders in MongoDB."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from common.documents import MONEY, TUPLE, Document, EnumValue, Field, OptionalEnum
from common.idempotency_store import ensure_idempotency_indexes
from common.money import LEGACY_CURRENCY
from common.mongo import MongoRepository
from common.pagination import NEWEST_FIRST, Page, PageRequest, keyset_page
from common.retries import ConcurrentUpdate
from svc_orders.domain.model import OPEN, CancelReason, Order, OrderStatus


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.orders.create_index([("user_id", 1), *NEWEST_FIRST])
    # The expiry sweep: open orders whose hold ran out, oldest due first.
    await db.orders.create_index([("status", 1), ("expires_at", 1)])
    # The open orders of a catalogue event that is called off.
    await db.orders.create_index([("event_id", 1), ("status", 1)])
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
        # Orders placed before listings of several seats: one seat, its index unknown.
        "quantity": Field("quantity", missing=1),
        "seats": Field("seats", TUPLE, missing=()),
        "pending": Field("pending", missing=False),
        "seat_labels": Field("seat_labels", TUPLE, missing=()),
        "event_id": Field("event_id", missing=""),
        # Orders placed before the seller was recorded name none.
        "seller_id": Field("seller_id", missing=""),
        # Orders placed before delivery terms (issue 22) have none.
        "delivery_method": Field("delivery_method", missing=""),
        "deliver_by": Field("deliver_by", missing=None),
    },
)

# Placed orders: `pending` is absent on orders from before it existed, and false once placed.
PLACED: dict[str, Any] = {"pending": {"$ne": True}}


class MongoOrderRepository(MongoRepository[Order]):
    collection_name = "orders"
    document = ORDERS

    async def page_of(self, user_id: str, request: PageRequest) -> Page[Order]:
        # A pending order (its seats not held yet) is shown to no one.
        return await keyset_page({"user_id": user_id, **PLACED}, request, self._find)

    async def _find(self, query: dict[str, Any], sort, limit: int) -> list[Order]:
        return await self.find(query, sort=list(sort), limit=limit)

    async def count_of(self, user_id: str) -> int:
        return await self.collection.count_documents(
            {"user_id": user_id, **PLACED}, session=self.uow.session
        )

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

    async def open_ids_of_event(self, event_id: str, limit: int) -> list[str]:
        """Placed open orders of the listings of `event_id` (a pending one has no event yet:
        its hold is refused, the event being called off)."""
        cursor = self.collection.find(
            {"event_id": event_id, "status": {"$in": [s.value for s in OPEN]}},
            {"_id": 1},
            session=self.uow.session,
            limit=limit,
        )
        return [doc["_id"] async for doc in cursor]

    async def delete(self, order: Order) -> None:
        """Deletes an order loaded through this repository, unless it changed meanwhile."""
        loaded = self._loaded.get(order.id)
        result = await self.collection.delete_one(
            {"_id": order.id, "version": loaded}, session=self.uow.session
        )
        if result.deleted_count != 1:
            raise ConcurrentUpdate(f"orders/{order.id} changed meanwhile")
