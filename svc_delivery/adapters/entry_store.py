"""Entry in MongoDB: scanner grants, entries, double admissions, and what entry reads of the
passes, all in the unit of work's transaction (`MongoEntryUnitOfWork`).

    scanner_grants     _id "<event_id>:<user_id>": event_id, user_id, granted_by, granted_at
    admissions         an event's entries, one per pass (unique (event_id, pass_id)): _id the
                       admission's id, and the admission's fields (`Admission.to_document`)
    double_admissions  _id the reported admission's id: event_id, pass_id, kept, also
    passes             read only: _id, event_id, serial, state, seat_label (the passes'
                       repository writes them; see `MongoPassLookup`)
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from common.mongo import UnitOfWork
from common.retries import ConcurrentUpdate
from svc_delivery.domain.entry import Admission, DoubleAdmission

SCANNER_GRANTS = "scanner_grants"
ADMISSIONS = "admissions"
DOUBLE_ADMISSIONS = "double_admissions"
PASSES = "passes"
# Pass.state's value once voided (svc_delivery/domain/passes.py, PassState.VOID).
VOID = "VOID"


async def ensure_entry_indexes(db: AsyncDatabase) -> None:
    await db[SCANNER_GRANTS].create_index([("user_id", ASCENDING), ("event_id", ASCENDING)])
    await db[SCANNER_GRANTS].create_index([("event_id", ASCENDING), ("user_id", ASCENDING)])
    # One entry per pass: of two doors admitting one pass at once, the second insert fails.
    await db[ADMISSIONS].create_index(
        [("event_id", ASCENDING), ("pass_id", ASCENDING)], unique=True
    )
    await db[DOUBLE_ADMISSIONS].create_index([("event_id", ASCENDING), ("pass_id", ASCENDING)])


def _grant_id(event_id: str, user_id: str) -> str:
    return f"{event_id}:{user_id}"


class MongoScannerGrants:
    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.collection = db[SCANNER_GRANTS]
        self.uow = uow

    async def grant(self, event_id: str, user_id: str, by: str, at: Any) -> None:
        await self.collection.update_one(
            {"_id": _grant_id(event_id, user_id)},
            {
                "$setOnInsert": {
                    "event_id": event_id,
                    "user_id": user_id,
                    "granted_by": by,
                    "granted_at": at,
                }
            },
            upsert=True,
            session=self.uow.session,
        )

    async def revoke(self, event_id: str, user_id: str) -> None:
        await self.collection.delete_one(
            {"_id": _grant_id(event_id, user_id)}, session=self.uow.session
        )

    async def is_scanner(self, event_id: str, user_id: str) -> bool:
        found = await self.collection.find_one(
            {"_id": _grant_id(event_id, user_id)}, {"_id": 1}, session=self.uow.session
        )
        return found is not None

    async def scanners(self, event_id: str) -> list[str]:
        cursor = self.collection.find(
            {"event_id": event_id},
            {"user_id": 1},
            sort=[("user_id", ASCENDING)],
            session=self.uow.session,
        )
        return [doc["user_id"] async for doc in cursor]

    async def events_of(self, user_id: str) -> list[str]:
        cursor = self.collection.find(
            {"user_id": user_id},
            {"event_id": 1},
            sort=[("event_id", ASCENDING)],
            session=self.uow.session,
        )
        return [doc["event_id"] async for doc in cursor]


def _admission_doc(admission: Admission) -> dict[str, Any]:
    return {"_id": admission.id, **admission.to_document()}


def _double_doc(event_id: str, double: DoubleAdmission) -> dict[str, Any]:
    return {
        "_id": double.also.id,
        "event_id": event_id,
        "pass_id": double.pass_id,
        "kept": double.kept.to_document(),
        "also": double.also.to_document(),
    }


def _of_passes(event_id: str, pass_ids: list[str] | None) -> dict[str, Any]:
    query: dict[str, Any] = {"event_id": event_id}
    if pass_ids is not None:
        query["pass_id"] = {"$in": pass_ids}
    return query


class MongoEntryStore:
    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.admissions = db[ADMISSIONS]
        self.doubles_ = db[DOUBLE_ADMISSIONS]
        self.uow = uow

    async def entries(self, event_id: str, pass_ids: list[str] | None = None) -> list[Admission]:
        cursor = self.admissions.find(_of_passes(event_id, pass_ids), session=self.uow.session)
        return [Admission.from_document(doc) async for doc in cursor]

    async def add_entry(self, admission: Admission) -> None:
        try:
            await self.admissions.insert_one(_admission_doc(admission), session=self.uow.session)
        except DuplicateKeyError:
            raise ConcurrentUpdate(f"pass {admission.pass_id} was admitted meanwhile") from None

    async def replace_entry(self, old: Admission, new: Admission) -> None:
        removed = await self.admissions.delete_one(
            {"_id": old.id, "event_id": old.event_id, "pass_id": old.pass_id},
            session=self.uow.session,
        )
        if removed.deleted_count != 1:
            raise ConcurrentUpdate(f"pass {old.pass_id}'s entry changed meanwhile")
        await self.add_entry(new)

    async def doubles(
        self, event_id: str, pass_ids: list[str] | None = None
    ) -> list[DoubleAdmission]:
        cursor = self.doubles_.find(_of_passes(event_id, pass_ids), session=self.uow.session)
        return [
            DoubleAdmission(
                doc["pass_id"],
                Admission.from_document(doc["kept"]),
                Admission.from_document(doc["also"]),
            )
            async for doc in cursor
        ]

    async def admitted_passes(self, admission_ids: list[str]) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        for collection in (self.admissions, self.doubles_):
            cursor = collection.find(
                {"_id": {"$in": admission_ids}},
                {"event_id": 1, "pass_id": 1},
                session=self.uow.session,
            )
            async for doc in cursor:
                found[doc["_id"]] = (doc["event_id"], doc["pass_id"])
        return found

    async def put_double(self, event_id: str, double: DoubleAdmission) -> None:
        await self.doubles_.replace_one(
            {"_id": double.also.id},
            _double_doc(event_id, double),
            upsert=True,
            session=self.uow.session,
        )


class MongoPassLookup:
    """Reads the passes' documents (their repository's shape: `_id` the pass id, `event_id`,
    `serial`, `state` the PassState's value, `seat_label`), never writes them."""

    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.collection = db[PASSES]
        self.uow = uow

    async def valid_from(self, event_id: str, pass_ids: list[str] | None = None) -> dict[str, int]:
        # Pass.valid_from: serials below the current one are revoked, and all once void.
        query: dict[str, Any] = {
            "event_id": event_id,
            "$or": [{"serial": {"$gt": 1}}, {"state": VOID}],
        }
        if pass_ids is not None:
            query["_id"] = {"$in": pass_ids}
        cursor = self.collection.find(query, {"serial": 1, "state": 1}, session=self.uow.session)
        return {
            doc["_id"]: int(doc["serial"]) + (1 if doc.get("state") == VOID else 0)
            async for doc in cursor
        }

    async def seat_label(self, pass_id: str) -> str:
        doc = await self.collection.find_one(
            {"_id": pass_id}, {"seat_label": 1}, session=self.uow.session
        )
        return str(doc.get("seat_label", "")) if doc else ""


class MongoEntryUnitOfWork(UnitOfWork):
    scanners: MongoScannerGrants
    entries: MongoEntryStore
    passes: MongoPassLookup

    async def __aenter__(self) -> MongoEntryUnitOfWork:
        await super().__aenter__()
        self.scanners = MongoScannerGrants(self.db, self)
        self.entries = MongoEntryStore(self.db, self)
        self.passes = MongoPassLookup(self.db, self)
        return self
