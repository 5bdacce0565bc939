"""Tickets in MongoDB."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from common.documents import MONEY, Document, EnumValue, Field, Kind
from common.idempotency_store import ensure_idempotency_indexes
from common.money import LEGACY_CURRENCY
from common.mongo import MongoRepository
from common.pagination import NEWEST_FIRST, Page, PageRequest, keyset_page
from svc_tickets.domain.model import SeatHold, Ticket
from svc_tickets.domain.split import SplitRule


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.tickets.create_index(NEWEST_FIRST)
    await db.tickets.create_index([("available", 1), *NEWEST_FIRST])
    # Which listing an order holds seats of: order.cancelled / order.updated name only the order.
    await db.tickets.create_index("holds.order_id")
    await ensure_idempotency_indexes(db)
    await _upgrade_legacy(db)


async def _upgrade_legacy(db: AsyncDatabase) -> None:
    """Tickets stored before listings of several seats (no `holds`) are rewritten as listings of
    one seat, their holder (`order_id`) as its hold (TicketDocument says how), so that queries
    (ListTickets on `available`, the order consumers on `holds.order_id`) find them. One
    conditional update each, so replicas starting at once do each ticket once; a no-op after."""
    async for doc in db.tickets.find({"holds": {"$exists": False}}):
        upgraded = TICKETS.to_doc(TICKETS.from_doc(doc))
        del upgraded["_id"]  # immutable: a real MongoDB refuses it in $set
        await db.tickets.update_one(
            {"_id": doc["_id"], "holds": {"$exists": False}},
            {"$set": upgraded, "$unset": {"order_id": ""}},
        )


def _dump_holds(holds: list[SeatHold]) -> list[dict[str, Any]]:
    return [
        {
            "order_id": h.order_id,
            "seats": list(h.seats),
            "price": MONEY.dump(h.price),
            "sold": h.sold,
        }
        for h in holds
    ]


def _load_holds(stored: list[dict[str, Any]] | None) -> list[SeatHold]:
    return [
        SeatHold(h["order_id"], tuple(h["seats"]), MONEY.load(h["price"]), h.get("sold", False))
        for h in stored or ()
    ]


HOLDS = Kind("seat holds", _dump_holds, _load_holds)


class TicketDocument(Document[Ticket]):
    """Also stores what ListTickets filters on, derived and never read back: `available`, the
    seats for sale.

    A ticket stored before listings of several seats names its holder in `order_id` and has no
    `holds`: it loads as that order holding its one seat at the ticket's price, so an order in
    flight across the upgrade is released or sold by its events as any other. (Whether such an
    order was already paid is the orders service's to know: its seat reads HELD, not SOLD,
    until a migration marks it; it is not for sale either way.)"""

    def to_doc(self, obj: Ticket) -> dict[str, Any]:
        doc = super().to_doc(obj)
        doc["available"] = obj.available
        return doc

    def from_doc(self, doc: Mapping[str, Any]) -> Ticket:
        if "holds" not in doc and doc.get("order_id"):
            legacy = SeatHold(doc["order_id"], (0,), MONEY.load(doc["price"]))
            doc = {**doc, "holds": _dump_holds([legacy])}
        return super().from_doc(doc)


TICKETS = TicketDocument(
    Ticket,
    {
        "_id": Field("id"),
        "title": Field("title"),
        "price": Field("price", MONEY),
        "user_id": Field("user_id"),
        "version": Field("version"),
        "created_at": Field("created_at"),
        # Tickets stored before currencies were recorded were all listed and charged in USD.
        "currency_code": Field("currency_code", missing=LEGACY_CURRENCY),
        "withdrawn": Field("withdrawn", missing=False),
        # Tickets stored before listings of several seats: one seat, any split.
        "quantity": Field("quantity", missing=1),
        "split_rule": Field("split_rule", EnumValue(SplitRule), missing=SplitRule.ANY),
        "event_id": Field("event_id", missing=""),
        "holds": Field("holds", HOLDS, missing=[]),
    },
)


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
