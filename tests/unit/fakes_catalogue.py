"""In-memory stand-ins for the catalogue's adapters, for unit tests of its service layer.

They keep the contracts the Mongo adapters keep: nothing a unit of work writes is visible to
others until it commits (its own reads see it); every write to an event (itself or its listings'
summary) takes the next sequence number; events go to `published` (as integration events) only
on commit; an external_ref is unique."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from common.idempotency import IdempotencyRecord, honoured_since
from common.retries import ConcurrentUpdate
from svc_catalogue.adapters.outbox_mapping import to_integration
from svc_catalogue.domain.listings import Listing, ListingSummary
from svc_catalogue.domain.model import Event
from svc_catalogue.domain.search import FeedPage
from svc_catalogue.service_layer.commands import ImportRow


@dataclass
class CatalogueStore:
    events: dict[str, Event] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)
    seq: int = 0
    listings: dict[str, Listing] = field(default_factory=dict)
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    published: list[Message] = field(default_factory=list)
    commits: int = 0

    def published_of(self, kind: type[Message]) -> list[Message]:
        return [e for e in self.published if isinstance(e, kind)]


def _detached(event: Event) -> Event:
    return dataclasses.replace(event, events=[])


class FakeEvents:
    def __init__(self, uow: FakeCatalogueUnitOfWork) -> None:
        self.uow = uow

    async def get(self, event_id: str) -> Event | None:
        event = self.uow.view.events.get(event_id)
        return None if event is None else self.uow.track(_detached(event))

    async def by_external_ref(self, external_ref: str) -> Event | None:
        for event in self.uow.view.events.values():
            if event.external_ref == external_ref:
                return self.uow.track(_detached(event))
        return None

    async def many(self, ids: list[str]) -> list[Event]:
        return [_detached(self.uow.view.events[i]) for i in ids if i in self.uow.view.events]

    async def by_external_refs(self, external_refs: list[str]) -> dict[str, Event]:
        wanted = set(external_refs)
        return {
            e.external_ref: self.uow.track(_detached(e))
            for e in self.uow.view.events.values()
            if e.external_ref in wanted
        }

    async def add_many(self, events: list[Event]) -> None:
        for event in events:
            await self.add(event)

    async def save_many(self, events: list[Event]) -> None:
        for event in events:
            await self.save(event)

    async def add(self, event: Event) -> None:
        if event.id in self.uow.view.events or (
            event.external_ref
            and any(e.external_ref == event.external_ref for e in self.uow.view.events.values())
        ):
            raise ConcurrentUpdate(f"events/{event.id} exists")
        self._write(event)

    async def save(self, event: Event) -> None:
        self._write(event)

    async def set_summaries(self, summaries: dict[str, ListingSummary]) -> set[str]:
        missing = set()
        for event_id in sorted(summaries):
            stored = self.uow.view.events.get(event_id)
            if stored is None:
                missing.add(event_id)
            else:
                self._write(stored, summaries[event_id], track=False)
        return missing

    def _write(self, event: Event, summary: ListingSummary | None = None, track=True) -> None:
        """As the repository: the event's own fields, its summary kept unless given."""
        view = self.uow.view
        if summary is None:
            kept = view.events.get(event.id)
            summary = kept.summary if kept is not None else event.summary
        view.events[event.id] = dataclasses.replace(event, summary=summary, events=[])
        view.seq += 1
        view.seqs[event.id] = view.seq
        if track:
            self.uow.track(event)


class FakeListings:
    def __init__(self, uow: FakeCatalogueUnitOfWork) -> None:
        self.uow = uow

    async def many(self, listing_ids: list[str]) -> dict[str, Listing]:
        stored = self.uow.view.listings
        return {i: stored[i] for i in listing_ids if i in stored}

    async def put_many(self, listings: list[Listing]) -> None:
        for listing in listings:
            self.uow.view.listings[listing.id] = listing

    async def of_events(self, event_ids: list[str]) -> dict[str, list[Listing]]:
        rows = self.uow.view.listings.values()
        return {i: [row for row in rows if row.event_id == i] for i in event_ids}


class FakeIdempotency:
    def __init__(self, uow: FakeCatalogueUnitOfWork) -> None:
        self.uow = uow

    async def find(self, user_id: str, key: str, now) -> IdempotencyRecord | None:
        record = self.uow.view.idempotency.get(f"{user_id}/{key}")
        return record if record and record.created_at >= honoured_since(now) else None

    async def claim(self, record: IdempotencyRecord) -> None:
        if await self.find(record.user_id, record.key, record.created_at) is not None:
            raise ConcurrentUpdate("idempotency key exists")
        self.uow.view.idempotency[f"{record.user_id}/{record.key}"] = record


class FakeCatalogueUnitOfWork:
    def __init__(self, store: CatalogueStore) -> None:
        self.store = store
        self.view: CatalogueStore = store
        self._tracked: list[Any] = []

    async def __aenter__(self) -> FakeCatalogueUnitOfWork:
        self.view = copy.deepcopy(self.store)
        self.view.published = []
        self._tracked = []
        self.events = FakeEvents(self)
        self.listings = FakeListings(self)
        self.idempotency = FakeIdempotency(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.view = self.store

    def track(self, event: Event) -> Event:
        if not any(t is event for t in self._tracked):
            self._tracked.append(event)
        return event

    async def commit(self) -> None:
        outgoing = [to_integration(e) for t in self._tracked for e in t.events]
        for tracked in self._tracked:
            tracked.events = []
        published = self.store.published
        for name in ("events", "seqs", "seq", "listings", "idempotency"):
            setattr(self.store, name, getattr(self.view, name))
        self.store.published = published + outgoing
        self.store.commits += 1


class FakeFeed:
    """The search feed over a store (as MongoSearchFeed over the database)."""

    def __init__(self, store: CatalogueStore) -> None:
        self.store = store

    async def since(self, seq: int, limit: int) -> FeedPage:
        changed = sorted((s, event_id) for event_id, s in self.store.seqs.items() if s > seq)[
            :limit
        ]
        events = [self.store.events[i] for _, i in changed]
        return FeedPage(
            documents=[event.search_document() for event in events],
            removed=[],
            last_seq=changed[-1][0] if changed else seq,
            events=events,
        )


def import_row(ref: str = "ext-1", **changes) -> ImportRow:
    """A valid row of `ticketing catalogue import` (London, June 2027), with `changes`."""
    given = {
        "external_ref": ref,
        "name": f"Concert {ref}",
        "performers": ["Arctic Monkeys", "The Hives"],
        "venue_name": "O2 Arena",
        "city": "London",
        "country": "GB",
        "time_zone": "Europe/London",
        "starts_at": "2027-06-01T20:00",
        "ends_at": "2027-06-01T23:00",
        "category": "concert",
    }
    given.update(changes)
    return ImportRow(**given)
