"""MongoDB access: one database per service, and a unit of work that commits an aggregate's
changes and the events it recorded in one transaction (the transactional outbox)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from google.protobuf.message import Message
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from common import events, tracing
from common.clock import Clock, SystemClock
from common.documents import Document
from common.retries import ConcurrentUpdate

log = logging.getLogger(__name__)

OUTBOX = "outbox"
INBOX = "processed_events"
# An outbox document's `claimed_until` while no relay holds it (a date, not null, so "claimable"
# is one range on an index: `claimed_until <= now`).
UNCLAIMED = datetime(1970, 1, 1, tzinfo=UTC)


# A pooled connection idle this long is closed by the driver before anything else does: SecantusDB
# drops a client idle for 300 s, cloud load balancers and NATs after 240-350 s, and a connection
# they dropped fails the operation that next uses it.
MAX_IDLE_MS = 60_000


def mongo_client(url: str) -> AsyncMongoClient:
    # Connecting is lazy: nothing happens until the first operation.
    return AsyncMongoClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=5000,
        maxIdleTimeMS=MAX_IDLE_MS,
        appname="ticketing",
    )


def database_name(namespace: str, service: str) -> str:
    return f"{namespace}_{service}"


async def ensure_outbox_indexes(db: AsyncDatabase) -> None:
    outbox = db[OUTBOX]
    # Unsent, oldest first (a relay on MongoDB), and sent before a date (the retention purge).
    await outbox.create_index([("sent_at", ASCENDING), ("order_key", ASCENDING)])
    # Claimable, and claimed by compare-and-set (see common.outbox).
    await outbox.create_index(
        [("sent_at", ASCENDING), ("claimed_until", ASCENDING), ("_id", ASCENDING)]
    )
    await db[INBOX].create_index([("at", ASCENDING)])


class Aggregate(Protocol):
    # Domain events (plain objects): the unit of work maps each to its integration event.
    events: list[Any]


class OutboxOwner(Protocol):
    """The relay of this process (common.outbox.OutboxRelay): events committed here are
    claimed for it in the committing transaction, and it is woken with their ids after."""

    def claim_fields(self, now: datetime) -> dict[str, Any]: ...

    def wake(self, event_ids: Sequence[str] = ()) -> None: ...


def _already_integration(event: Any) -> Message:
    if not isinstance(event, Message):
        raise TypeError(f"{event!r} is no integration event; map it in the service's unit of work")
    return event


class UnitOfWork:
    """`async with uow:` opens a transaction; `await uow.commit()` writes the outbox and commits;
    leaving the block without committing rolls back. One instance serves one transaction.

    The aggregates record domain events (plain dataclasses); a service's unit of work maps each
    to the proto integration event its consumers receive (`to_integration`, the service's
    `adapters/outbox_mapping.py`) as it writes the outbox: the one place where they meet."""

    # Events recorded as proto messages (`record`, a test's probe) are integration events already.
    to_integration: Callable[[Any], Message] = staticmethod(_already_integration)

    def __init__(
        self,
        client: AsyncMongoClient,
        db: AsyncDatabase,
        app_id: str,
        clock: Clock | None = None,
        relay: OutboxOwner | None = None,
    ) -> None:
        self.client = client
        self.db = db
        self.app_id = app_id
        self.clock = clock or SystemClock()
        self.relay = relay
        self.session: AsyncClientSession | None = None
        self._seen: list[Aggregate] = []
        self._extra: list[Any] = []
        self.committed = False

    async def __aenter__(self) -> UnitOfWork:
        self.session = self.client.start_session()
        await self.session.start_transaction()
        self._seen, self._extra, self.committed = [], [], False
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.session is not None
        try:
            if self.session.in_transaction:
                await self.session.abort_transaction()
        finally:
            await self.session.end_session()
            self.session = None

    def track(self, aggregate: Aggregate) -> None:
        if not any(a is aggregate for a in self._seen):
            self._seen.append(aggregate)

    def record(self, event: Any) -> None:
        """An event that belongs to no aggregate of this service."""
        self._extra.append(event)

    async def already_processed(self, event_id: str) -> bool:
        """True when this event id was handled before; otherwise remembers it in this transaction,
        so a redelivered event changes nothing."""
        inbox = self.db[INBOX]
        if await inbox.find_one({"_id": event_id}, session=self.session) is not None:
            return True
        await inbox.insert_one({"_id": event_id, "at": self.clock.now()}, session=self.session)
        return False

    async def processed_before(self, event_ids: Sequence[str]) -> set[str]:
        """`already_processed` for many ids in two statements: those handled before; the others
        are remembered in this transaction."""
        inbox = self.db[INBOX]
        wanted = list(dict.fromkeys(event_ids))
        cursor = inbox.find({"_id": {"$in": wanted}}, {"_id": 1}, session=self.session)
        seen = {doc["_id"] async for doc in cursor}
        now = self.clock.now()
        new = [{"_id": event_id, "at": now} for event_id in wanted if event_id not in seen]
        if new:
            await inbox.insert_many(new, session=self.session)
        return seen

    def collect_events(self) -> list[Any]:
        collected = []
        for aggregate in self._seen:
            collected.extend(aggregate.events)
            aggregate.events = []
        collected.extend(self._extra)
        self._extra = []
        return collected

    async def commit(self) -> None:
        assert self.session is not None, "commit outside `async with`"
        outgoing = [
            events.Envelope(self.to_integration(e), app_id=self.app_id)
            for e in self.collect_events()
        ]
        if outgoing:
            now = self.clock.now()
            stamp = time.time_ns()
            # Claimed for this process's relay from the start: it publishes them as soon as it
            # is woken, with no claim to write; without a relay, any relay may claim them.
            claim = self.relay.claim_fields(now) if self.relay else {"claimed_until": UNCLAIMED}
            # The context they were recorded in (a request's, an event's): their consumers
            # continue its trace.
            trace = tracing.outbox_trace_fields()
            await self.db[OUTBOX].insert_many(
                [
                    {
                        **events.message_doc(env.event, env.event_id, env.app_id, now),
                        "order_key": f"{stamp:020d}-{i:05d}",
                        "sent_at": None,
                        **claim,
                        **trace,
                    }
                    for i, env in enumerate(outgoing)
                ],
                session=self.session,
            )
        await self.session.commit_transaction()
        self.committed = True
        if outgoing and self.relay:
            self.relay.wake([env.event_id for env in outgoing])


class Versioned(Aggregate, Protocol):
    id: str
    version: int


A = TypeVar("A", bound=Versioned)


class MongoRepository(Generic[A]):
    """Aggregates in one collection, read and written inside the unit of work's transaction.

    Every aggregate it hands out is tracked (its events reach the outbox at commit) and saved
    with an optimistic check on the version it was loaded at.
    """

    collection_name: str
    # The aggregate's stored document, declared field by field (common/documents.py).
    document: Document[A]

    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.collection = db[self.collection_name]
        self.uow = uow
        self._loaded: dict[str, int] = {}

    def to_doc(self, aggregate: A) -> dict[str, Any]:
        return self.document.to_doc(aggregate)

    def from_doc(self, doc: dict[str, Any]) -> A:
        return self.document.from_doc(doc)

    def _seen(self, aggregate: A) -> A:
        self._loaded[aggregate.id] = aggregate.version
        self.uow.track(aggregate)
        return aggregate

    async def get(self, aggregate_id: str) -> A | None:
        return await self.find_one({"_id": aggregate_id})

    async def find_one(self, query: dict[str, Any]) -> A | None:
        doc = await self.collection.find_one(query, session=self.uow.session)
        return None if doc is None else self._seen(self.from_doc(doc))

    async def find(
        self, query: dict[str, Any], sort: list[tuple[str, int]] | None = None, limit: int = 0
    ) -> list[A]:
        cursor = self.collection.find(query, session=self.uow.session, sort=sort, limit=limit)
        return [self.from_doc(doc) async for doc in cursor]

    async def add(self, aggregate: A) -> None:
        await self.collection.insert_one(self.to_doc(aggregate), session=self.uow.session)
        self._seen(aggregate)

    async def save(self, aggregate: A) -> None:
        loaded = self._loaded.get(aggregate.id)
        if loaded is None:
            raise RuntimeError(f"{aggregate.id} was not loaded through this repository")
        result = await self.collection.replace_one(
            {"_id": aggregate.id, "version": loaded},
            self.to_doc(aggregate),
            session=self.uow.session,
        )
        if result.matched_count != 1:
            raise ConcurrentUpdate(f"{self.collection_name}/{aggregate.id} changed meanwhile")
        self._loaded[aggregate.id] = aggregate.version
