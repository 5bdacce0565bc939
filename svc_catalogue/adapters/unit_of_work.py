"""The catalogue's unit of work on MongoDB: events, listing summaries and idempotency keys in one
transaction, with the events' recorded changes written to the outbox as integration events
(`outbox_mapping.to_integration`)."""

from __future__ import annotations

from common.idempotency_store import MongoIdempotencyRecords
from common.mongo import UnitOfWork
from svc_catalogue.adapters.outbox_mapping import to_integration
from svc_catalogue.adapters.repository import MongoEventRepository, MongoListingRepository


class MongoCatalogueUnitOfWork(UnitOfWork):
    events: MongoEventRepository
    listings: MongoListingRepository
    idempotency: MongoIdempotencyRecords
    to_integration = staticmethod(to_integration)

    async def __aenter__(self) -> MongoCatalogueUnitOfWork:
        await super().__aenter__()
        self.events = MongoEventRepository(self.db, self)
        self.listings = MongoListingRepository(self.db, self)
        self.idempotency = MongoIdempotencyRecords(self.db, self)
        return self
