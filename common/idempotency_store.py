"""Idempotency records in a service's own MongoDB database, read and written in the unit of
work's transaction (docs/api.md IDEM-6, IDEM-8).

One document per (user, key) under a unique index: of two transactions claiming one key at once,
the second fails (a duplicate key or a write conflict) and runs again (retry_transient), then
finds the first's record. A TTL index deletes records some time after the window; until then a
record older than the window is ignored and overwritten by a new claim.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from common.idempotency import WINDOW, IdempotencyRecord, honoured_since
from common.mongo import UnitOfWork
from common.retries import ConcurrentUpdate

COLLECTION = "idempotency_keys"


async def ensure_idempotency_indexes(db: AsyncDatabase) -> None:
    await db[COLLECTION].create_index(
        [("user_id", ASCENDING), ("key", ASCENDING)], unique=True, name="user_key_unique"
    )
    await db[COLLECTION].create_index(
        [("created_at", ASCENDING)], expireAfterSeconds=int(WINDOW.total_seconds()), name="ttl"
    )


class MongoIdempotencyRecords:
    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.collection = db[COLLECTION]
        self.uow = uow

    async def find(self, user_id: str, key: str, now: datetime) -> IdempotencyRecord | None:
        """The record of this key, unless it is older than the window."""
        doc = await self.collection.find_one(
            {"user_id": user_id, "key": key, "created_at": {"$gte": honoured_since(now)}},
            session=self.uow.session,
        )
        return None if doc is None else _record(doc)

    async def claim(self, record: IdempotencyRecord) -> None:
        """Records the key for `record.object_id`, in the transaction creating it; replaces a
        record older than the window. A live record of the key committed or being written by
        another transaction makes this one run again (ConcurrentUpdate)."""
        doc: dict[str, Any] = {
            "user_id": record.user_id,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "object_id": record.object_id,
            "created_at": record.created_at,
        }
        try:
            await self.collection.update_one(
                {
                    "user_id": record.user_id,
                    "key": record.key,
                    "created_at": {"$lt": honoured_since(record.created_at)},
                },
                {"$set": doc},
                upsert=True,
                session=self.uow.session,
            )
        except DuplicateKeyError:
            claimed = f"an idempotency key of {record.user_id} claimed meanwhile"
            raise ConcurrentUpdate(claimed) from None

    async def forget(self, user_id: str, key: str) -> None:
        """Deletes the key's record (in the transaction deleting what it made)."""
        await self.collection.delete_one({"user_id": user_id, "key": key}, session=self.uow.session)


def _record(doc: dict[str, Any]) -> IdempotencyRecord:
    return IdempotencyRecord(
        doc["user_id"], doc["key"], doc["fingerprint"], doc["object_id"], doc["created_at"]
    )
