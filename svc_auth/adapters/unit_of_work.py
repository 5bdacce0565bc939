"""The auth service's unit of work on MongoDB: users and revocations in one transaction, with the
events the users recorded written to the outbox as integration events
(`outbox_mapping.to_integration`)."""

from __future__ import annotations

from common.mongo import UnitOfWork
from svc_auth.adapters.outbox_mapping import to_integration
from svc_auth.adapters.repository import MongoUserRepository
from svc_auth.adapters.revocation_store import MongoRevocationRepository


class MongoAuthUnitOfWork(UnitOfWork):
    users: MongoUserRepository
    revocations: MongoRevocationRepository
    to_integration = staticmethod(to_integration)

    async def __aenter__(self) -> MongoAuthUnitOfWork:
        await super().__aenter__()
        self.users = MongoUserRepository(self.db, self)
        self.revocations = MongoRevocationRepository(self.db, self.session)
        return self
