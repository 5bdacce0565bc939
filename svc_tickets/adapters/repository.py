"""Tickets in MongoDB."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from common.idempotency_store import ensure_idempotency_indexes
from common.mongo import MongoRepository
from common.pagination import NEWEST_FIRST, Page, PageRequest, keyset_page
from svc_tickets.adapters.documents import TICKETS
from svc_tickets.domain.model import Ticket
from svc_tickets.domain.sales_window import SalesWindow


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.tickets.create_index(NEWEST_FIRST)
    await db.tickets.create_index([("available", 1), *NEWEST_FIRST])
    # Which listing an order holds seats of: order.cancelled / order.updated name only the order.
    await db.tickets.create_index("holds.order_id")
    # An event's listings for sale, cheapest first; a seller's own, newest first.
    await db.tickets.create_index([("event_id", 1), ("price_minor", 1), ("_id", 1)])
    await db.tickets.create_index([("user_id", 1), *NEWEST_FIRST])
    await ensure_idempotency_indexes(db)
    # No upgrade of legacy tickets here: it scanned the collection on every start. They are
    # rewritten once by `ticketing migrate` (svc_tickets/service_layer/migration.py) and read
    # as one-seat listings until then (TicketDocument).


class MongoTicketRepository(MongoRepository[Ticket]):
    collection_name = "tickets"
    document = TICKETS

    async def page(self, request: PageRequest, include_reserved: bool) -> Page[Ticket]:
        # Withdrawn tickets are never listed (a field absent on older tickets: not withdrawn).
        query: dict[str, Any] = {"withdrawn": {"$ne": True}}
        if not include_reserved:
            query["available"] = {"$gt": 0}
        return await keyset_page(query, request, self._find)

    async def _find(self, query: dict[str, Any], sort, limit: int) -> list[Ticket]:
        return await self.find(query, sort=list(sort), limit=limit)

    async def many(self, ids: list[str]) -> list[Ticket]:
        return await self.find({"_id": {"$in": ids}})

    async def holding(self, order_id: str) -> Ticket | None:
        """The listing `order_id` holds (or bought) seats of, if any."""
        return await self.find_one({"holds.order_id": order_id})

    # One document per order, written both by its hold and by its end (OrderCancelled): a late
    # HoldSeats and the release racing write the same document, so one of the two transactions
    # conflicts and runs again after the other. Reading alone would let each miss the other's
    # write (write skew) and seats stay held by an order that ended.

    async def remember_ended(self, order_id: str) -> None:
        await self.collection.database.order_marks.update_one(
            {"_id": order_id}, {"$set": {"cancelled": True}}, upsert=True, session=self.uow.session
        )

    async def remember_hold(self, order_id: str) -> bool:
        """Notes that the order asks for seats; True if it has already ended."""
        marks = self.collection.database.order_marks
        before = await marks.find_one({"_id": order_id}, session=self.uow.session)
        await marks.update_one(
            {"_id": order_id}, {"$set": {"held": True}}, upsert=True, session=self.uow.session
        )
        return before is not None and bool(before.get("cancelled"))

    async def of_event(
        self, event_id: str, limit: int, after: tuple[int, str] | None
    ) -> list[Ticket]:
        """The event's listings with seats for sale, cheapest first (then by id), after the
        (price in minor units, id) of the last one a client has."""
        query: dict[str, Any] = {
            "event_id": event_id,
            "available": {"$gt": 0},
            "withdrawn": {"$ne": True},
        }
        if after is not None:
            price, ticket_id = after
            query["$or"] = [
                {"price_minor": {"$gt": price}},
                {"price_minor": price, "_id": {"$gt": ticket_id}},
            ]
        return await self.find(query, sort=[("price_minor", 1), ("_id", 1)], limit=limit)

    async def page_of_seller(self, seller: str, request: PageRequest) -> Page[Ticket]:
        """A seller's own listings, withdrawn and sold ones too, newest first."""
        return await keyset_page({"user_id": seller}, request, self._find)

    # The catalogue's events as tickets needs them (SalesWindow), one document each.

    async def window_of(self, event_id: str) -> SalesWindow | None:
        doc = await self.collection.database.sales_windows.find_one(
            {"_id": event_id}, session=self.uow.session
        )
        if doc is None:
            return None
        return SalesWindow(doc["_id"], doc["starts_at"], doc["status"], doc["version"])

    async def save_window(self, window: SalesWindow) -> None:
        await self.collection.database.sales_windows.update_one(
            {"_id": window.event_id},
            {
                "$set": {
                    "starts_at": window.starts_at,
                    "status": window.status,
                    "version": window.version,
                }
            },
            upsert=True,
            session=self.uow.session,
        )
