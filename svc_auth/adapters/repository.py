"""Users in MongoDB (`users`: unique email index; `version` checked on every save)."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from common.documents import TUPLE, Document, Field
from common.errors import AlreadyExists
from common.mongo import MongoRepository
from svc_auth.domain.model import User


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.users.create_index([("email", ASCENDING)], unique=True)


USERS = Document(
    User,
    {
        "_id": Field("id"),
        "email": Field("email"),
        "password_hash": Field("password_hash"),
        "created_at": Field("created_at"),
        "version": Field("version"),
        # Users stored before sessions had generations are at 0, as their tokens are.
        "session_generation": Field("session_generation", missing=0),
        "roles": Field("roles", TUPLE, missing=()),
    },
)


class MongoUserRepository(MongoRepository[User]):
    collection_name = "users"
    document = USERS

    async def get_by_email(self, email: str) -> User | None:
        return await self.find_one({"email": email})

    async def replace_password_hash(self, user_id: str, old_hash: str, new_hash: str) -> bool:
        result = await self.collection.update_one(
            {"_id": user_id, "password_hash": old_hash},
            {"$set": {"password_hash": new_hash}},
            session=self.uow.session,
        )
        return result.modified_count == 1

    async def add(self, user: User) -> None:
        try:
            await super().add(user)
        except DuplicateKeyError:
            raise AlreadyExists("Email in use", field="email") from None
