"""A device that signed in to an account before: what a valid device token names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    user_id: str  # the account it signed in to
    device_id: str  # random, issued at its first sign-in: what its own failures are counted by
