"""The ledger's journal in MongoDB: `ledger_entries`, one document per entry,
{_id: "<kind>:<source>", kind, source, order_id, currency_code, postings: [{account, amount}],
created_at, memo}, amounts in minor units (domain/ledger.py).

Entries are only ever added, inside the unit of work's transaction. Posting one that is there
already changes nothing (an upsert that only inserts: a failed insert would abort the whole
transaction), so a handler run again after a lost commit posts each movement once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from common.mongo import UnitOfWork
from svc_payments.domain.ledger import EntryKind, JournalEntry, Posting

LEDGER_ENTRIES = "ledger_entries"


async def ensure_ledger_indexes(db: AsyncDatabase) -> None:
    await db[LEDGER_ENTRIES].create_index([("order_id", ASCENDING)])
    await db[LEDGER_ENTRIES].create_index([("created_at", ASCENDING)])


def to_doc(entry: JournalEntry) -> dict[str, Any]:
    return {
        "_id": entry.id,
        "kind": entry.kind.value,
        "source": entry.source,
        "order_id": entry.order_id,
        "currency_code": entry.currency_code,
        "postings": [{"account": p.account, "amount": p.amount} for p in entry.postings],
        "created_at": entry.created_at,
        "memo": entry.memo,
    }


def from_doc(doc: dict[str, Any]) -> JournalEntry:
    return JournalEntry(
        kind=EntryKind(doc["kind"]),
        source=doc["source"],
        order_id=doc["order_id"],
        currency_code=doc["currency_code"],
        postings=tuple(Posting(p["account"], p["amount"]) for p in doc["postings"]),
        created_at=doc["created_at"],
        memo=doc.get("memo", ""),
    )


class MongoLedger:
    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.collection = db[LEDGER_ENTRIES]
        self.uow = uow

    async def post(self, entry: JournalEntry) -> bool:
        """Adds `entry` in the transaction; False when it was posted before."""
        result = await self.collection.update_one(
            {"_id": entry.id},
            {"$setOnInsert": to_doc(entry)},
            upsert=True,
            session=self.uow.session,
        )
        return result.upserted_id is not None

    async def of_order(self, order_id: str) -> list[JournalEntry]:
        cursor = self.collection.find(
            {"order_id": order_id}, session=self.uow.session, sort=[("created_at", ASCENDING)]
        )
        return [from_doc(doc) async for doc in cursor]

    async def get(self, entry_id: str) -> JournalEntry | None:
        doc = await self.collection.find_one({"_id": entry_id}, session=self.uow.session)
        return None if doc is None else from_doc(doc)

    async def by_ids(self, entry_ids: list[str]) -> list[JournalEntry]:
        """The entries of these ids that exist (reconciliation: those of Stripe's balance
        transactions); unknown ids are left out."""
        if not entry_ids:
            return []
        cursor = self.collection.find({"_id": {"$in": entry_ids}}, session=self.uow.session)
        return [from_doc(doc) async for doc in cursor]

    async def created_between(self, start: datetime, end: datetime) -> list[JournalEntry]:
        """The entries created from `start` (included) to `end` (excluded), oldest first."""
        cursor = self.collection.find(
            {"created_at": {"$gte": start, "$lt": end}},
            session=self.uow.session,
            sort=[("created_at", ASCENDING)],
        )
        return [from_doc(doc) async for doc in cursor]

    async def first_created(self) -> datetime | None:
        """When the oldest entry was created; None for an empty ledger."""
        doc = await self.collection.find_one(
            {}, {"created_at": 1}, session=self.uow.session, sort=[("created_at", ASCENDING)]
        )
        return None if doc is None else doc["created_at"]
