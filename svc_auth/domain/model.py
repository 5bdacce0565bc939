"""Users: the rules about emails and passwords, and the events a user records."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from common.errors import InvalidInput
from common.roles import ROLES
from svc_auth.domain import events

# Deliberately permissive (RFC 5322 is larger than any regex): one @, no spaces, a dotted domain.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_EMAIL_LENGTH = 254
MIN_PASSWORD, MAX_PASSWORD = 8, 128


def normalise_email(raw: str, field: str = "email") -> str:
    email = (raw or "").strip().lower()
    if not email:
        raise InvalidInput("Email is required", field=field)
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise InvalidInput("Email must be valid", field=field)
    return email


def check_password(raw: str, field: str = "password") -> str:
    if not isinstance(raw, str) or not MIN_PASSWORD <= len(raw) <= MAX_PASSWORD:
        raise InvalidInput(
            f"Password must be between {MIN_PASSWORD} and {MAX_PASSWORD} characters", field=field
        )
    return raw


@dataclass
class User:
    id: str
    email: str
    password_hash: str
    created_at: datetime
    version: int = 0
    # Tokens carry it (their `gen` claim); ending the user's sessions raises it, and every token
    # issued below it is refused from then on.
    session_generation: int = 0
    # What the user may do beyond their own data (e.g. `admin`: the marketplace's reports). Tokens
    # carry them (`roles` claim): a role granted shows in the tokens issued from then on.
    roles: tuple[str, ...] = ()
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(cls, id: str, email: str, password_hash: str, now: datetime) -> User:
        user = cls(id=id, email=email, password_hash=password_hash, created_at=now)
        user.events.append(events.UserCreated(id=id, email=email))
        return user

    def change_password(self, new_hash: str) -> None:
        """Replaces the password and ends every session opened with the old one."""
        self.password_hash = new_hash
        self.session_generation += 1
        self._updated()

    def grant(self, role: str) -> bool:
        """Gives the user `role`; False if they had it already (nothing changes)."""
        if role not in ROLES:
            raise InvalidInput(f"Unknown role {role!r}; roles are {', '.join(ROLES)}", field="role")
        if role in self.roles:
            return False
        self.roles = tuple(sorted({*self.roles, role}))
        self._updated()
        return True

    def _updated(self) -> None:
        """A new version of the user, announced (UserUpdated)."""
        self.version += 1
        self.events.append(events.UserUpdated(id=self.id, email=self.email, version=self.version))
