"""Revocations in auth's database (`revocations`): the authority the verifiers' Redis cache
(common.revocations) is loaded from, so a revocation outlives Redis losing its data.

One document per signed-out token (`token:<jti>`) and one per user whose sessions were ended
(`sessions:<user id>`, its latest generation), each deleted once the last token it refuses has
expired. `cached` says whether it has reached Redis yet; those that have not are written again by
the sync loop (svc_auth.service_layer.revocation_sync).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from common.clock import Clock
from common.revocations import Revocation, SessionsEnded, TokenRevoked

COLLECTION = "revocations"


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[COLLECTION].create_index([("expires_at", ASCENDING)])
    await db[COLLECTION].create_index([("cached", ASCENDING), ("expires_at", ASCENDING)])


def _id(revocation: Revocation) -> str:
    if isinstance(revocation, TokenRevoked):
        return f"token:{revocation.jti}"
    return f"sessions:{revocation.user_id}"


def _identity(revocation: Revocation) -> dict[str, Any]:
    """The document holding exactly this revocation (a later generation is another one)."""
    if isinstance(revocation, TokenRevoked):
        return {"_id": _id(revocation)}
    return {"_id": _id(revocation), "generation": revocation.generation}


def to_doc(revocation: Revocation) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": _id(revocation),
        "user_id": revocation.user_id,
        "expires_at": datetime.fromtimestamp(revocation.expires_at, UTC),
        "cached": False,
    }
    if isinstance(revocation, TokenRevoked):
        doc["jti"] = revocation.jti
    else:
        doc["generation"] = revocation.generation
    return doc


def from_doc(doc: dict[str, Any]) -> Revocation:
    expires_at = int(doc["expires_at"].timestamp())
    if "jti" in doc:
        return TokenRevoked(doc["jti"], doc["user_id"], expires_at)
    return SessionsEnded(doc["user_id"], doc["generation"], expires_at)


class MongoRevocationRepository:
    def __init__(self, db: AsyncDatabase, session: AsyncClientSession | None) -> None:
        self.collection = db[COLLECTION]
        self.session = session

    async def record(self, revocation: Revocation) -> None:
        # Replaces: a sign-out sent twice is one revocation; a user's sessions document holds
        # the latest generation (password changes are serialised by the user's version check).
        await self.collection.replace_one(
            {"_id": _id(revocation)}, to_doc(revocation), upsert=True, session=self.session
        )


class MongoRevocationStore:
    """Outside any transaction: what the sync loop reads and marks."""

    def __init__(self, db: AsyncDatabase, clock: Clock) -> None:
        self.collection = db[COLLECTION]
        self.clock = clock

    async def live(self) -> list[Revocation]:
        cursor = self.collection.find({"expires_at": {"$gt": self.clock.now()}})
        return [from_doc(doc) async for doc in cursor]

    async def uncached(self) -> list[Revocation]:
        query = {"cached": False, "expires_at": {"$gt": self.clock.now()}}
        return [from_doc(doc) async for doc in self.collection.find(query)]

    async def mark_cached(self, revocations: Sequence[Revocation]) -> None:
        # One round trip for the batch (the sync loop may mark a whole backlog at once).
        if revocations:
            identities = [_identity(revocation) for revocation in revocations]
            await self.collection.update_many({"$or": identities}, {"$set": {"cached": True}})

    async def purge(self) -> int:
        """Forgets revocations whose last token has expired."""
        result = await self.collection.delete_many({"expires_at": {"$lte": self.clock.now()}})
        return result.deleted_count
