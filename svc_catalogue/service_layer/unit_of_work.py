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

    async def set_summary(self, event_id: str, summary: ListingSummary) -> bool:
        """False when no such event is stored (its listings' summary waits for it)."""
        ...


class ListingRepository(Protocol):
    async def get(self, listing_id: str) -> Listing | None: ...

    async def put(self, listing: Listing) -> None: ...

    async def of_event(self, event_id: str) -> list[Listing]: ...


class CatalogueUnitOfWork(Protocol):
    events: EventRepository
    listings: ListingRepository
    idempotency: IdempotencyRecords

    async def __aenter__(self) -> CatalogueUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...

    async def already_processed(self, event_id: str) -> bool: ...
