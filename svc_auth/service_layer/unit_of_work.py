"""The auth service's unit of work, as the handlers see it (a port): users and revocations in
one transaction. `svc_auth/adapters/unit_of_work.py` implements it on MongoDB; the unit tests'
fakes in memory; `bootstrap.py` chooses."""

from __future__ import annotations

from typing import Protocol

from common.revocations import Revocation
from svc_auth.domain.model import User


class UserRepository(Protocol):
    async def get(self, user_id: str) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def add(self, user: User) -> None: ...

    async def save(self, user: User) -> None: ...

    async def replace_password_hash(self, user_id: str, old_hash: str, new_hash: str) -> bool:
        """Swaps the hash for an equivalent one (same password, current scheme) if it is still
        `old_hash`; the user's version and events are untouched: nothing changed for anyone
        else. False if the password was changed meanwhile."""
        ...


class RevocationRepository(Protocol):
    """Inside a unit of work: written in the same transaction as the change that caused it."""

    async def record(self, revocation: Revocation) -> None: ...


class AuthUnitOfWork(Protocol):
    users: UserRepository
    revocations: RevocationRepository

    async def __aenter__(self) -> AuthUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...
