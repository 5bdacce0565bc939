"""Catalogue events and the listings they summarise, in MongoDB.

Every write to an event document (the event itself, or its listings' summary) sets its `seq`
from one counter incremented in the same transaction (once, by as many documents as it writes).
Two transactions incrementing it conflict (MongoDB's write conflict; the loser runs again after
the winner commits), so sequence numbers are committed in the order they are taken and a reader
of `seq > n` never misses one committed before it read (`adapters/search_feed.py`)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, ReplaceOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from common.documents import MONEY, Document, EnumValue, Field
from common.idempotency_store import ensure_idempotency_indexes
from common.mongo import MongoRepository
from common.retries import ConcurrentUpdate
from svc_catalogue.adapters.documents import FEES, SUMMARY, VENUE, performers_kind
from svc_catalogue.domain.fees import FeeOverride
from svc_catalogue.domain.listings import Listing, ListingSummary
from svc_catalogue.domain.model import Event
from svc_catalogue.domain.values import Category, EventStatus

COUNTERS = "counters"
SEQ_COUNTER = "events_seq"
EXTERNAL_REFS = "external_refs"
LISTINGS = "listing_summaries"


async def ensure_indexes(db: AsyncDatabase) -> None:
    # The search feed's range (`seq > n`, in order).
    await db.events.create_index([("seq", ASCENDING)], unique=True)
    # An import's upsert finds each row's event by it: unindexed, every row scanned every event
    # (an import of 2,000 events took 186 s, 10 rows/s; bench `search-gateway`).
    await db.events.create_index([("external_ref", ASCENDING)])
    await db[LISTINGS].create_index([("event_id", ASCENDING)])
    await ensure_idempotency_indexes(db)


EVENTS = Document(
    Event,
    {
        "_id": Field("id"),
        "name": Field("name"),
        "performers": Field("performers", performers_kind()),
        "venue": Field("venue", VENUE),
        "starts_at": Field("starts_at"),
        "ends_at": Field("ends_at"),
        "category": Field("category", EnumValue(Category)),
        "created_at": Field("created_at"),
        "status": Field("status", EnumValue(EventStatus)),
        "version": Field("version"),
        "external_ref": Field("external_ref", missing=""),
        "fee_override": Field("fee_override", FEES, missing=FeeOverride()),
        # Written only by `set_summaries`, never by `save` (see `_fields`).
        "summary": Field("summary", SUMMARY, missing=ListingSummary()),
    },
)
_OWN_FIELDS = [key for key in EVENTS.fields if key not in ("_id", "summary")]


async def next_seq(db: AsyncDatabase, session: Any, count: int = 1) -> int:
    """Takes `count` numbers at once (one increment, so one conflict per transaction however
    many documents it writes): the first of them; the others follow it."""
    counter = await db[COUNTERS].find_one_and_update(
        {"_id": SEQ_COUNTER},
        {"$inc": {"value": count}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return int(counter["value"]) - count + 1


class MongoEventRepository(MongoRepository[Event]):
    collection_name = "events"
    document = EVENTS

    async def by_external_ref(self, external_ref: str) -> Event | None:
        return await self.find_one({"external_ref": external_ref})

    async def many(self, ids: list[str]) -> list[Event]:
        return await self.find({"_id": {"$in": ids}})

    async def add(self, event: Event) -> None:
        db = self.collection.database
        if event.external_ref:
            try:
                await db[EXTERNAL_REFS].insert_one(
                    {"_id": event.external_ref, "event_id": event.id}, session=self.uow.session
                )
            except DuplicateKeyError:
                raise ConcurrentUpdate(f"external_ref {event.external_ref} taken") from None
        doc = {**self.to_doc(event), "seq": await next_seq(db, self.uow.session)}
        await self.collection.insert_one(doc, session=self.uow.session)
        self._seen(event)

    async def by_external_refs(self, external_refs: list[str]) -> dict[str, Event]:
        cursor = self.collection.find(
            {"external_ref": {"$in": external_refs}}, session=self.uow.session
        )
        return {doc["external_ref"]: self._seen(self.from_doc(doc)) async for doc in cursor}

    async def add_many(self, events: list[Event]) -> None:
        """`add` for many, in one statement per collection and one increment of the counter."""
        if not events:
            return
        db, session = self.collection.database, self.uow.session
        refs = [{"_id": e.external_ref, "event_id": e.id} for e in events if e.external_ref]
        if refs:
            try:
                await db[EXTERNAL_REFS].insert_many(refs, ordered=True, session=session)
            except BulkWriteError as exc:
                if all(e.get("code") == 11000 for e in exc.details.get("writeErrors", [])):
                    raise ConcurrentUpdate("an external_ref of the batch was taken") from None
                raise
        first = await next_seq(db, session, len(events))
        await self.collection.insert_many(
            [{**self.to_doc(e), "seq": first + i} for i, e in enumerate(events)],
            ordered=True,
            session=session,
        )
        for event in events:
            self._seen(event)

    async def save_many(self, events: list[Event]) -> None:
        """`save` for many, in one statement and one increment of the counter."""
        if not events:
            return
        session = self.uow.session
        first = await next_seq(self.collection.database, session, len(events))
        updates = []
        for i, event in enumerate(events):
            loaded = self._loaded.get(event.id)
            if loaded is None:
                raise RuntimeError(f"{event.id} was not loaded through this repository")
            doc = self.to_doc(event)
            own = {key: doc[key] for key in _OWN_FIELDS} | {"seq": first + i}
            updates.append(UpdateOne({"_id": event.id, "version": loaded}, {"$set": own}))
        result = await self.collection.bulk_write(updates, ordered=True, session=session)
        if result.matched_count != len(updates):
            raise ConcurrentUpdate("an event of the batch changed meanwhile")
        for event in events:
            self._loaded[event.id] = event.version

    async def save(self, event: Event) -> None:
        loaded = self._loaded.get(event.id)
        if loaded is None:
            raise RuntimeError(f"{event.id} was not loaded through this repository")
        doc = self.to_doc(event)
        own = {key: doc[key] for key in _OWN_FIELDS}
        own["seq"] = await next_seq(self.collection.database, self.uow.session)
        result = await self.collection.update_one(
            {"_id": event.id, "version": loaded}, {"$set": own}, session=self.uow.session
        )
        if result.matched_count != 1:
            raise ConcurrentUpdate(f"events/{event.id} changed meanwhile")
        self._loaded[event.id] = event.version

    async def set_summaries(self, summaries: dict[str, ListingSummary]) -> set[str]:
        if not summaries:
            return set()
        session = self.uow.session
        ids = sorted(summaries)
        cursor = self.collection.find({"_id": {"$in": ids}}, {"_id": 1}, session=session)
        stored = {doc["_id"] async for doc in cursor}
        found = [event_id for event_id in ids if event_id in stored]
        if found:
            first = await next_seq(self.collection.database, session, len(found))
            await self.collection.bulk_write(
                [
                    UpdateOne(
                        {"_id": event_id},
                        {"$set": {"summary": SUMMARY.dump(summaries[event_id]), "seq": first + i}},
                    )
                    for i, event_id in enumerate(found)
                ],
                ordered=True,
                session=session,
            )
        return set(ids) - stored


LISTING_DOC = Document(
    Listing,
    {
        "_id": Field("id"),
        "event_id": Field("event_id"),
        "price": Field("price", MONEY),
        "currency_code": Field("currency_code"),
        "available": Field("available"),
        "version": Field("version"),
    },
)


class MongoListingRepository:
    def __init__(self, db: AsyncDatabase, uow: Any) -> None:
        self.collection = db[LISTINGS]
        self.uow = uow

    async def many(self, listing_ids: list[str]) -> dict[str, Listing]:
        cursor = self.collection.find({"_id": {"$in": listing_ids}}, session=self.uow.session)
        return {doc["_id"]: LISTING_DOC.from_doc(doc) async for doc in cursor}

    async def put_many(self, listings: list[Listing]) -> None:
        if listings:
            await self.collection.bulk_write(
                [
                    ReplaceOne({"_id": listing.id}, LISTING_DOC.to_doc(listing), upsert=True)
                    for listing in listings
                ],
                session=self.uow.session,
            )

    async def of_events(self, event_ids: list[str]) -> dict[str, list[Listing]]:
        cursor = self.collection.find({"event_id": {"$in": event_ids}}, session=self.uow.session)
        found: dict[str, list[Listing]] = {event_id: [] for event_id in event_ids}
        async for doc in cursor:
            found[doc["event_id"]].append(LISTING_DOC.from_doc(doc))
        return found
