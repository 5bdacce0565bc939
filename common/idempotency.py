"""Idempotency keys (docs/api.md §6): a client's key per (user, call), honoured 24 h.

The check of a key's form, the fingerprint of a request's normalized input and the decision
on a stored record live here; each service stores its records in its own database, in the
transaction that creates the object (common.idempotency_store).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from common.errors import IdempotencyKeyReused, InvalidInput

FIELD = "idempotency_key"
MAX_KEY = 64
KEY_FORM = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_KEY}}}")
# A key is honoured this long from its first commit; an older record is ignored (and the TTL
# index deletes it eventually).
WINDOW = timedelta(hours=24)


def check_key(raw: str, field: str = FIELD) -> str:
    if not raw:
        raise InvalidInput("An idempotency key is required", field=field)
    if not KEY_FORM.fullmatch(raw):
        raise InvalidInput(f"An idempotency key is 1 to {MAX_KEY} of A-Z a-z 0-9 _ -", field=field)
    return raw


def fingerprint(*normalized: str) -> str:
    """What makes two requests with one key the same request: their inputs, normalized by the
    call ("20" and "20.00" alike), without the key."""
    return hashlib.sha256(json.dumps(normalized).encode()).hexdigest()


@dataclass(frozen=True)
class IdempotencyRecord:
    user_id: str
    key: str
    fingerprint: str
    object_id: str  # what the first request created
    created_at: datetime


class IdempotencyRecords(Protocol):
    """A service's records, in its unit of work's transaction."""

    async def find(self, user_id: str, key: str, now: datetime) -> IdempotencyRecord | None:
        """The key's record, unless older than WINDOW."""
        ...

    async def claim(self, record: IdempotencyRecord) -> None:
        """Records the key in the transaction creating the object; a live record of it makes
        the transaction run again (a transient error)."""
        ...

    async def forget(self, user_id: str, key: str) -> None:
        """Deletes the key's record, in the transaction deleting the object it names (a request
        refused after its object was committed): the key may be used again."""
        ...


def honoured_since(now: datetime) -> datetime:
    """Records committed before this are forgotten."""
    return now - WINDOW


def replayed_object(record: IdempotencyRecord, request_fingerprint: str) -> str:
    """The id of the object to answer with: the first request's. A different input with the
    same key is refused (IDEMPOTENCY_KEY_REUSED); nothing is done."""
    if record.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused(
            "This idempotency key was used for another request; use a new key for a new action"
        )
    return record.object_id
