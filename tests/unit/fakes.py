"""In-memory stand-ins for the auth service's adapters, for unit tests of the service layer.

They keep the contracts the Mongo adapters keep: a unique email (AlreadyExists "Email in use"),
a version check on save (Conflict), events published only on commit, and nothing visible to
other units of work until commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from google.protobuf.message import Message

from common.errors import AlreadyExists, Conflict, RateLimited, Unavailable
from common.jwt import Claims
from common.rate_limiter import Limit
from common.revocations import Revocation, SessionsEnded, TokenRevoked
from svc_auth.adapters.outbox_mapping import to_integration
from svc_auth.domain.model import User


def _copy(user: User) -> User:
    """A detached copy, as a row read back from the database would be (no pending events)."""
    return dataclasses.replace(user, events=[])


@dataclass
class FakeDatabase:
    """What survives a unit of work: committed users and the events published with them."""

    users: dict[str, User] = field(default_factory=dict)
    published: list[Message] = field(default_factory=list)
    revocations: list[Revocation] = field(default_factory=list)
    commits: int = 0


class FakeRevocationRepository:
    def __init__(self) -> None:
        self.recorded: list[Revocation] = []

    async def record(self, revocation: Revocation) -> None:
        self.recorded.append(revocation)


class FakeUserRepository:
    """Works on a private copy of the committed users; the unit of work applies it on commit."""

    def __init__(self, committed: dict[str, User], uow: FakeAuthUnitOfWork) -> None:
        self._rows = {user_id: _copy(user) for user_id, user in committed.items()}
        self._uow = uow
        self.dirty: set[str] = set()

    def rows(self) -> dict[str, User]:
        return self._rows

    def _found(self, user: User | None) -> User | None:
        if user is None:
            return None
        loaded = _copy(user)
        self._uow.track(loaded)
        return loaded

    async def get(self, user_id: str) -> User | None:
        return self._found(self._rows.get(user_id))

    async def get_by_email(self, email: str) -> User | None:
        return self._found(next((u for u in self._rows.values() if u.email == email), None))

    async def add(self, user: User) -> None:
        # Mongo: a duplicate _id or a duplicate email is a DuplicateKeyError, both reported so.
        if user.id in self._rows or any(u.email == user.email for u in self._rows.values()):
            raise AlreadyExists("Email in use", field="email")
        self._rows[user.id] = _copy(user)
        self.dirty.add(user.id)
        self._uow.track(user)

    async def replace_password_hash(self, user_id: str, old_hash: str, new_hash: str) -> bool:
        stored = self._rows.get(user_id)
        if stored is None or stored.password_hash != old_hash:
            return False
        stored.password_hash = new_hash
        self.dirty.add(user_id)
        return True

    async def save(self, user: User) -> None:
        stored = self._rows.get(user.id)
        if stored is None or stored.version != user.version - 1:
            raise Conflict("The user was changed by another request; try again")
        self._rows[user.id] = _copy(user)
        self.dirty.add(user.id)
        self._uow.track(user)


class FakeAuthUnitOfWork:
    """`async with` starts a transaction on a snapshot; `commit()` applies it and publishes the
    events of every aggregate the repository handed out or stored; leaving without a commit
    discards everything."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.users: FakeUserRepository
        self.revocations: FakeRevocationRepository
        self._seen: list[User] = []
        self.committed = False
        self._open = False

    async def __aenter__(self) -> FakeAuthUnitOfWork:
        self.users = FakeUserRepository(self.db.users, self)
        self.revocations = FakeRevocationRepository()
        self._seen, self.committed, self._open = [], False, True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._open = False

    def track(self, aggregate: User) -> None:
        if not any(a is aggregate for a in self._seen):
            self._seen.append(aggregate)

    def collect_events(self) -> list[Message]:
        """As the Mongo unit of work writes them to the outbox: integration events."""
        collected: list[Message] = []
        for aggregate in self._seen:
            collected.extend(to_integration(e) for e in aggregate.events)
            aggregate.events = []
        return collected

    async def commit(self) -> None:
        assert self._open, "commit outside `async with`"
        outgoing = self.collect_events()
        rows = self.users.rows()
        for user_id in self.users.dirty:
            self.db.users[user_id] = _copy(rows[user_id])
        self.users.dirty = set()
        self.db.revocations.extend(self.revocations.recorded)
        self.revocations.recorded = []
        self.db.published.extend(outgoing)
        self.db.commits += 1
        self.committed = True


class FakeHasher:
    """Deterministic and instant; counts calls so tests can see that work was (not) done."""

    PREFIX = "hashed:"

    def __init__(self) -> None:
        self.hash_calls = 0
        self.verify_calls = 0

    async def hash(self, password: str) -> str:
        self.hash_calls += 1
        return self.PREFIX + password

    async def verify(self, password: str, encoded: str) -> bool:
        self.verify_calls += 1
        return encoded in (self.PREFIX + password, self.LEGACY_PREFIX + password)

    # A stand-in for an older scheme: verified, and replaced at the next successful sign-in.
    LEGACY_PREFIX = "legacy:"

    def needs_rehash(self, encoded: str) -> bool:
        return not encoded.startswith(self.PREFIX)


class FakeRevocations:
    """Where auth publishes revocations and verifiers read them (Redis's part): publishing
    fails while `reachable` is False, as a Redis write would."""

    def __init__(self) -> None:
        self.revoked: set[str] = set()
        self.expires_at: dict[str, int] = {}
        self.floors: dict[str, int] = {}
        self.reachable = True

    async def publish(self, revocations: Sequence[Revocation]) -> bool:
        if not self.reachable:
            return False
        for revocation in revocations:
            if isinstance(revocation, TokenRevoked):
                self.revoked.add(revocation.jti)
                self.expires_at[revocation.jti] = revocation.expires_at
            elif isinstance(revocation, SessionsEnded):
                floor = max(self.floors.get(revocation.user_id, 0), revocation.generation)
                self.floors[revocation.user_id] = floor
        return True

    async def is_revoked(self, claims: Claims) -> bool:
        return claims.jti in self.revoked or claims.gen < self.floors.get(claims.sub, 0)


class FakeCounter:
    """common.rate_limiter.Limiter's contract without Redis or time: `hit` counts, or raises
    RateLimited (not counting) once `limit.amount` are counted for the key; `clear` forgets the
    key; while `reachable` is False a limit that fails closed raises Unavailable."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.reachable = True

    async def hit(self, limit: Limit, key: str) -> None:
        if not limit.enabled:
            return
        if not self.reachable:
            raise Unavailable("Cannot check the request rate right now, try again shortly")
        used = self.counts.get((limit.name, key), 0)
        if used >= limit.amount:
            raise RateLimited(
                f"{limit.refusal} Try again in {limit.window_seconds} seconds.",
                retry_after_seconds=limit.window_seconds,
            )
        self.counts[(limit.name, key)] = used + 1

    async def clear(self, limit: Limit, key: str) -> None:
        self.counts.pop((limit.name, key), None)

    def used(self, name: str) -> int:
        """Every place taken in the counts of limit `name`, whatever the key."""
        return sum(n for (limit, _), n in self.counts.items() if limit == name)
