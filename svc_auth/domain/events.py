"""What a user records when it changes: plain domain events, no wire format. The unit of work
maps each to its integration event (proto/ticketing/events/v1/users.proto) where it writes the
outbox (`svc_auth/adapters/outbox_mapping.py`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserCreated:
    id: str
    email: str


@dataclass(frozen=True)
class UserUpdated:
    """A new version of the user (a password changed, a role granted)."""

    id: str
    email: str
    version: int


Event = UserCreated | UserUpdated
