"""Users in MongoDB (`users`: unique email index; `version` checked on every save)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from common.errors import AlreadyExists, Conflict
from svc_auth.domain.model import User

if TYPE_CHECKING:
    from common.mongo import UnitOfWork


class UserRepository(Protocol):
    async def get(self, user_id: str) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def add(self, user: User) -> None: ...

    async def save(self, user: User) -> None: ...


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.users.create_index([("email", ASCENDING)], unique=True)


def _to_doc(user: User) -> dict[str, Any]:
    return {
        "_id": user.id,
        "email": user.email,
        "password_hash": user.password_hash,
        "created_at": user.created_at,
        "version": user.version,
    }


def _from_doc(doc: dict[str, Any]) -> User:
    return User(
        id=doc["_id"],
        email=doc["email"],
        password_hash=doc["password_hash"],
        created_at=doc["created_at"],
        version=doc["version"],
    )


class MongoUserRepository:
    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.users = db.users
        self.uow = uow

    async def _find(self, query: dict[str, Any]) -> User | None:
        doc = await self.users.find_one(query, session=self.uow.session)
        if doc is None:
            return None
        user = _from_doc(doc)
        self.uow.track(user)
        return user

    async def get(self, user_id: str) -> User | None:
        return await self._find({"_id": user_id})

    async def get_by_email(self, email: str) -> User | None:
        return await self._find({"email": email})

    async def add(self, user: User) -> None:
        try:
            await self.users.insert_one(_to_doc(user), session=self.uow.session)
        except DuplicateKeyError:
            raise AlreadyExists("Email in use", field="email") from None
        self.uow.track(user)

    async def save(self, user: User) -> None:
        result = await self.users.replace_one(
            {"_id": user.id, "version": user.version - 1}, _to_doc(user), session=self.uow.session
        )
        if result.matched_count != 1:
            raise Conflict("The user was changed by another request; try again")
        self.uow.track(user)
