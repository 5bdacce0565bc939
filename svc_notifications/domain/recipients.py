"""The service's copy of a user's address, from auth's user.created / user.updated (auth is the
authority; this copy only addresses mail). Applied in version order: an older update is ignored.

An address a ticket was offered to (pass.transfer_offered) may belong to no account yet: it is
a recipient of its own, its id derived from the address (`address:` and a hash), so its mails
name an id like any other and the address stays in this copy only."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# The start of an address recipient's id: never a user's id (auth's ids are UUIDs).
ADDRESS_PREFIX = "address:"


@dataclass
class Recipient:
    id: str
    email: str
    # auth's version of the user (user.created: 0).
    version: int = 0
    events: list[object] = field(default_factory=list)

    @classmethod
    def for_address(cls, email: str) -> Recipient:
        """The recipient of mail to `email` itself: one per address (case and surrounding spaces
        aside), whoever holds it."""
        address = email.strip()
        digest = hashlib.sha256(address.lower().encode()).hexdigest()[:32]
        return cls(f"{ADDRESS_PREFIX}{digest}", address)

    def update(self, email: str, version: int) -> bool:
        """Takes a newer address; False (nothing changed) for an update not newer than ours."""
        if version <= self.version:
            return False
        self.email, self.version = email, version
        return True
