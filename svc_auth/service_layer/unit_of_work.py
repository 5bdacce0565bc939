"""The auth service's unit of work: the users repository inside one Mongo transaction."""

from __future__ import annotations

from typing import Protocol

from common.mongo import UnitOfWork
from svc_auth.adapters.repository import MongoUserRepository, UserRepository


class AuthUnitOfWork(Protocol):
    users: UserRepository

    async def __aenter__(self) -> AuthUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...


class MongoAuthUnitOfWork(UnitOfWork):
    users: MongoUserRepository

    async def __aenter__(self) -> MongoAuthUnitOfWork:
        await super().__aenter__()
        self.users = MongoUserRepository(self.db, self)
        return self
