"""Users in MongoDB (`users`: unique email index; `version` checked on every save)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from common.errors import AlreadyExists
from common.mongo import MongoRepository
from svc_auth.domain.model import User


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.users.create_index([("email", ASCENDING)], unique=True)


class MongoUserRepository(MongoRepository[User]):
    collection_name = "users"

    def to_doc(self, user: User) -> dict[str, Any]:
        return {
            "_id": user.id,
            "email": user.email,
            "password_hash": user.password_hash,
            "created_at": user.created_at,
            "version": user.version,
            "session_generation": user.session_generation,
            "roles": list(user.roles),
        }

    def from_doc(self, doc: dict[str, Any]) -> User:
        return User(
            id=doc["_id"],
            email=doc["email"],
            password_hash=doc["password_hash"],
            created_at=doc["created_at"],
            version=doc["version"],
            # Users stored before sessions had generations are at 0, as their tokens are.
            session_generation=doc.get("session_generation", 0),
            roles=tuple(doc.get("roles") or ()),
        )

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
