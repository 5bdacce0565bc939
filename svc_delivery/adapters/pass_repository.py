"""Passes in MongoDB (`passes`), and the entry side's admissions as the passes read them.

A pass is saved with the conditional update `MongoRepository.save` makes on the version it was
loaded at (`{_id, version: loaded}`), so a transfer and a withdrawal (or a resale) racing on one
pass cannot both be saved: the loser's handler runs again on a fresh load and is refused by the
state the winner left (svc_delivery/domain/passes.py). A unique index on (order_id, seat) makes a
seat's pass one, whatever retries issue it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from common.documents import AS_IS, Document, EnumValue, Field, Kind
from common.mongo import MongoRepository, UnitOfWork
from common.pagination import NEWEST_FIRST, Cursor, Page, PageRequest
from svc_delivery.domain.passes import Pass, PassState

PASSES = "passes"
# Written by the entry side (service_layer/entry.py): one document per (event_id, pass_id).
ADMISSIONS = "admissions"

BYTES = Kind("bytes", bytes, bytes)


async def ensure_pass_indexes(db: AsyncDatabase) -> None:
    await db[PASSES].create_index([("order_id", ASCENDING), ("seat", ASCENDING)], unique=True)
    # A holder's passes, newest issue first (ListMyPasses), all or one event's.
    await db[PASSES].create_index(
        [("holder_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]
    )
    # The offers made to an address (ListIncomingTransfers); only offered passes have the key.
    await db[PASSES].create_index([("offered_to", ASCENDING)], sparse=True)
    # The event's revocation list: its passes re-issued or void.
    await db[PASSES].create_index([("event_id", ASCENDING), ("valid_from", ASCENDING)])


PASS = Document(
    Pass,
    {
        "_id": Field("id"),
        "event_id": Field("event_id"),
        "order_id": Field("order_id"),
        "seat": Field("seat"),
        "seat_label": Field("seat_label", missing=""),
        "holder_id": Field("holder_id"),
        "holder_salt": Field("holder_salt", BYTES),
        # Named as common/pagination.py's keyset expects.
        "created_at": Field("issued_at"),
        "serial": Field("serial"),
        "state": Field("state", EnumValue(PassState)),
        "offered_to": Field("offered_to", missing=None),
        "offered_at": Field("offered_at", AS_IS, missing=None),
        "listing_id": Field("listing_id", missing=None),
        "version": Field("version"),
    },
)


class MongoPassRepository(MongoRepository[Pass]):
    collection_name = PASSES
    document = PASS

    def to_doc(self, aggregate: Pass) -> dict[str, Any]:
        doc = super().to_doc(aggregate)
        if doc["offered_to"] is None:
            del doc["offered_to"]  # out of the offers' sparse index
        # Derived, stored for the event's revocation list (serials below it are revoked).
        doc["valid_from"] = aggregate.valid_from
        return doc

    def from_doc(self, doc: dict[str, Any]) -> Pass:
        return super().from_doc({k: v for k, v in doc.items() if k != "valid_from"})

    async def of_order(self, order_id: str) -> list[Pass]:
        found = await self.find({"order_id": order_id}, sort=[("seat", ASCENDING)])
        return [self._seen(p) for p in found]

    async def held_by(self, holder_id: str, event_id: str, request: PageRequest) -> Page[Pass]:
        query: dict[str, Any] = {"holder_id": holder_id, "state": {"$ne": PassState.VOID.value}}
        if event_id:
            query["event_id"] = event_id
        if request.cursor is not None:
            query.update(request.cursor.after_filter())
        rows = await self.find(query, sort=NEWEST_FIRST, limit=request.limit + 1)
        items = rows[: request.limit]
        more = len(rows) > request.limit
        last = items[-1] if items else None
        return Page(
            [self._seen(p) for p in items],
            Cursor(last.issued_at, last.id).encode() if more and last else "",
            has_next=more,
            has_previous=request.cursor is not None,
        )

    async def offered_to(self, email: str) -> list[Pass]:
        found = await self.find(
            {"offered_to": email, "state": PassState.TRANSFER_OFFERED.value},
            sort=[("offered_at", ASCENDING)],
        )
        return [self._seen(p) for p in found]


class MongoAdmissions:
    """Reads the entry side's `admissions` (adapters/entry_store.py: event_id, pass_id, `at` an
    ISO 8601 time, the domain's Admission.to_document): a collection this module only reads."""

    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.collection = db[ADMISSIONS]
        self.uow = uow

    async def entered_at(self, event_id: str, pass_ids: list[str]) -> dict[str, datetime]:
        if not pass_ids:
            return {}
        cursor = self.collection.find(
            {"event_id": event_id, "pass_id": {"$in": pass_ids}},
            {"pass_id": 1, "at": 1},
            session=self.uow.session,
        )
        return {doc["pass_id"]: datetime.fromisoformat(doc["at"]) async for doc in cursor}
