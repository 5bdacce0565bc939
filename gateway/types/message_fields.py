"""Reading a GraphQL object's fields from a protobuf message when they are first asked
(gateway/types/events.py: an Event of the catalogue's message)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T = TypeVar("T")


class read_once(Generic[T]):
    """functools.cached_property without its lock (Python 3.11 takes an RLock on every read,
    which cost more than the fields it computed): the value goes into the instance's __dict__,
    where every later read finds it first. An Event is built and read by one request only."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        if instance is None:
            return self  # type: ignore[return-value]
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


def moment(stamp: Timestamp) -> datetime:
    """`from_timestamp`'s value (UTC, nanoseconds cut to microseconds), without its cost."""
    return _EPOCH + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)
