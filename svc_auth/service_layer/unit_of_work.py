"""The auth service's unit of work: users and revocations inside one Mongo transaction."""

from __future__ import annotations

from typing import Protocol

from common.mongo import UnitOfWork
from svc_auth.adapters.repository import MongoUserRepository, UserRepository
from svc_auth.adapters.revocation_store import MongoRevocationRepository, RevocationRepository


class AuthUnitOfWork(Protocol):
    users: UserRepository
    revocations: RevocationRepository

    async def __aenter__(self) -> AuthUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...


class MongoAuthUnitOfWork(UnitOfWork):
    users: MongoUserRepository
    revocations: MongoRevocationRepository

    async def __aenter__(self) -> MongoAuthUnitOfWork:
        await super().__aenter__()
        self.users = MongoUserRepository(self.db, self)
        self.revocations = MongoRevocationRepository(self.db, self.session)
        return self
