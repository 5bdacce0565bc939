"""The delivery service's unit of work on MongoDB: deliveries, sellers' records, the inbox and the
delivered files in one transaction, with the deliveries' recorded events written to the outbox as
integration events (`outbox_mapping.to_integration`)."""

from __future__ import annotations

from common.mongo import UnitOfWork
from svc_delivery.adapters.file_store import GridFsFileStore
from svc_delivery.adapters.outbox_mapping import to_integration
from svc_delivery.adapters.repository import MongoDeliveryRepository, MongoSellerRecords


class MongoDeliveryUnitOfWork(UnitOfWork):
    deliveries: MongoDeliveryRepository
    sellers: MongoSellerRecords
    files: GridFsFileStore
    to_integration = staticmethod(to_integration)

    async def __aenter__(self) -> MongoDeliveryUnitOfWork:
        await super().__aenter__()
        self.deliveries = MongoDeliveryRepository(self.db, self)
        self.sellers = MongoSellerRecords(self.db, self)
        self.files = GridFsFileStore(self.db, self)
        return self
