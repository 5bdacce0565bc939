"""The catalogue's unit of work, as the handlers see it (a port): its repositories and one
transaction. `svc_catalogue/adapters/unit_of_work.py` implements it on MongoDB; the unit tests'
fakes in memory; `bootstrap.py` chooses."""

from __future__ import annotations

from typing import Protocol

from common.idempotency import IdempotencyRecords
from svc_catalogue.domain.listings import Listing, ListingSummary
from svc_catalogue.domain.model import Event


class EventRepository(Protocol):
    async def get(self, event_id: str) -> Event | None: ...

    async def by_external_ref(self, external_ref: str) -> Event | None: ...

    async def many(self, ids: list[str]) -> list[Event]: ...

    async def add(self, event: Event) -> None:
        """Also claims its external_ref (ConcurrentUpdate if another event holds it)."""
        ...

    async def save(self, event: Event) -> None: ...

    async def by_external_refs(self, external_refs: list[str]) -> dict[str, Event]:
        """The stored ones among them, by external_ref."""
        ...

    async def add_many(self, events: list[Event]) -> None:
        """`add` for each (ConcurrentUpdate if another event holds one's external_ref)."""
        ...

    async def save_many(self, events: list[Event]) -> None:
        """`save` for each (ConcurrentUpdate if one changed since it was loaded)."""
        ...

    async def set_summaries(self, summaries: dict[str, ListingSummary]) -> set[str]:
        """Each event's new summary, every event written taking the next sequence number; the
        ids of those not stored (their listings' summary waits for them)."""
        ...


class ListingRepository(Protocol):
    async def many(self, listing_ids: list[str]) -> dict[str, Listing]:
        """The stored ones among them, by id."""
        ...

    async def put_many(self, listings: list[Listing]) -> None: ...

    async def of_events(self, event_ids: list[str]) -> dict[str, list[Listing]]:
        """Every listing of each event (an empty list for an event with none)."""
        ...


class CatalogueUnitOfWork(Protocol):
    events: EventRepository
    listings: ListingRepository
    idempotency: IdempotencyRecords

    async def __aenter__(self) -> CatalogueUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...
