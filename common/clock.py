"""Time as a dependency, so rules about expiry are tested without waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def stored_precision(moment: datetime) -> datetime:
    """`moment` as MongoDB keeps it (to the millisecond): a new object answered with the time
    it will be read back with, so a first answer and a later read (or replay) agree."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
