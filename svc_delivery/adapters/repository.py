"""Deliveries and sellers' records in MongoDB, read and written in the unit of work's
transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from common.documents import AS_IS, TUPLE, Document, EnumValue, Field, Kind
from common.mongo import MongoRepository, UnitOfWork
from common.pagination import NEWEST_FIRST, Cursor, Page, PageRequest
from svc_delivery.adapters.file_store import ensure_file_indexes
from svc_delivery.domain.deliveries import DeliveredFile, Delivery, SellerRecord
from svc_delivery.domain.methods import DeliveryMethod, DeliveryStatus

DELIVERIES = "deliveries"
SELLERS = "seller_records"


async def ensure_indexes(db: AsyncDatabase) -> None:
    # The sweep's question: which checks have come (a delivery with none left has no key).
    await db[DELIVERIES].create_index([("check_at", ASCENDING)], sparse=True)
    # A user's deliveries as the seller or the buyer, newest first (ListMyDeliveries).
    for who in ("seller_id", "buyer_id"):
        await db[DELIVERIES].create_index(
            [(who, ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]
        )
    await ensure_file_indexes(db)


def _dump_files(files: tuple[DeliveredFile, ...]) -> list[dict[str, Any]]:
    return [
        {
            "id": f.id,
            "filename": f.filename,
            "content_type": f.content_type,
            "size": f.size,
            "seat": f.seat,
            "sha256": f.sha256,
        }
        for f in files
    ]


def _load_files(stored: list[dict[str, Any]] | None) -> tuple[DeliveredFile, ...]:
    return tuple(DeliveredFile(**doc) for doc in stored or ())


FILES = Kind("delivered files", _dump_files, _load_files)

DELIVERY = Document(
    Delivery,
    {
        "_id": Field("order_id"),
        "seller_id": Field("seller_id"),
        "buyer_id": Field("buyer_id"),
        "listing_id": Field("listing_id"),
        "event_id": Field("event_id"),
        "method": Field("method", EnumValue(DeliveryMethod)),
        "deliver_by": Field("deliver_by"),
        "quantity": Field("quantity"),
        "created_at": Field("created_at"),
        "seat_labels": Field("seat_labels", TUPLE, missing=()),
        "status": Field("status", EnumValue(DeliveryStatus)),
        "order_version": Field("order_version"),
        "delivered_at": Field("delivered_at", AS_IS, missing=None),
        "files": Field("files", FILES, missing=()),
        "barcodes": Field("barcodes", TUPLE, missing=()),
        "transfer_note": Field("transfer_note", missing=""),
        "reminded": Field("reminded", missing=False),
        "check_at": Field("check_at", AS_IS, missing=None),
        "version": Field("version"),
    },
)


class MongoDeliveryRepository(MongoRepository[Delivery]):
    collection_name = DELIVERIES
    document = DELIVERY

    def to_doc(self, aggregate: Delivery) -> dict[str, Any]:
        doc = super().to_doc(aggregate)
        if doc["check_at"] is None:
            del doc["check_at"]  # out of the sweep's sparse index
        return doc

    async def many(self, order_ids: list[str]) -> list[Delivery]:
        return [self._seen(d) for d in await self.find({"_id": {"$in": order_ids}})]

    async def page_of(
        self,
        user_id: str,
        as_seller: bool,
        statuses: list[DeliveryStatus],
        request: PageRequest,
    ) -> Page[Delivery]:
        query: dict[str, Any] = {"seller_id" if as_seller else "buyer_id": user_id}
        if statuses:
            query["status"] = {"$in": [s.value for s in statuses]}
        if request.cursor is not None:
            query.update(request.cursor.after_filter())
        rows = await self.find(query, sort=NEWEST_FIRST, limit=request.limit + 1)
        items = rows[: request.limit]
        more = len(rows) > request.limit
        return Page(
            items,
            Cursor.of(items[-1]).encode() if more and items else "",
            has_next=more,
            has_previous=request.cursor is not None,
        )

    async def due_ids(self, now: datetime, limit: int) -> list[str]:
        cursor = self.collection.find(
            {"check_at": {"$lte": now}},
            {"_id": 1},
            sort=[("check_at", ASCENDING)],
            limit=limit,
            session=self.uow.session,
        )
        return [doc["_id"] async for doc in cursor]


class MongoSellerRecords:
    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.collection = db[SELLERS]
        self.uow = uow

    async def get(self, seller_id: str) -> SellerRecord:
        doc = await self.collection.find_one({"_id": seller_id}, session=self.uow.session)
        if doc is None:
            return SellerRecord(seller_id)
        return SellerRecord(seller_id, doc.get("delivered", 0), doc.get("missed", 0))

    async def count(self, seller_id: str, delivered: int = 0, missed: int = 0) -> None:
        await self.collection.update_one(
            {"_id": seller_id},
            {"$inc": {"delivered": delivered, "missed": missed}},
            upsert=True,
            session=self.uow.session,
        )
