from __future__ import annotations

import strawberry

from ticketing.auth.v1 import auth_pb2


@strawberry.type
class User:
    id: strawberry.ID
    email: str

    @classmethod
    def from_proto(cls, user: auth_pb2.User) -> User:
        return cls(id=strawberry.ID(user.id), email=user.email)


@strawberry.type
class AuthPayload:
    token: str
    user: User
