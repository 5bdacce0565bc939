"""The service's copy of a user's address, from auth's user.created / user.updated (auth is the
authority; this copy only addresses mail). Applied in version order: an older update is ignored."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Recipient:
    id: str
    email: str
    # auth's version of the user (user.created: 0).
    version: int = 0
    events: list[object] = field(default_factory=list)

    def update(self, email: str, version: int) -> bool:
        """Takes a newer address; False (nothing changed) for an update not newer than ours."""
        if version <= self.version:
            return False
        self.email, self.version = email, version
        return True
