"""The delivery service's unit of work on MongoDB: deliveries, sellers' records, the inbox and the
delivered files and the passes in one transaction, with the recorded events other services hear
of written to the outbox as integration events (`outbox_mapping.to_integration`)."""

from __future__ import annotations

from typing import Any

from common.mongo import UnitOfWork
from svc_delivery.adapters.file_store import GridFsFileStore
from svc_delivery.adapters.outbox_mapping import published, to_integration
from svc_delivery.adapters.pass_repository import MongoAdmissions, MongoPassRepository
from svc_delivery.adapters.repository import MongoDeliveryRepository, MongoSellerRecords


class MongoDeliveryUnitOfWork(UnitOfWork):
    deliveries: MongoDeliveryRepository
    sellers: MongoSellerRecords
    files: GridFsFileStore
    passes: MongoPassRepository
    admissions: MongoAdmissions
    to_integration = staticmethod(to_integration)

    async def __aenter__(self) -> MongoDeliveryUnitOfWork:
        await super().__aenter__()
        self.deliveries = MongoDeliveryRepository(self.db, self)
        self.sellers = MongoSellerRecords(self.db, self)
        self.files = GridFsFileStore(self.db, self)
        self.passes = MongoPassRepository(self.db, self)
        self.admissions = MongoAdmissions(self.db, self)
        return self

    def collect_events(self) -> list[Any]:
        return [e for e in super().collect_events() if published(e)]
