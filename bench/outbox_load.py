"""Events written straight into a service's outbox, by the same unit of work the service commits
with (so they carry whatever fields its relay expects), and counted on arrival at a probe.

They are UserCreated events: no service consumes `user.created`, so the relay's work is the
only work they cause."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass

from bench.probe import Arrival, EventProbe
from bench.stack import BenchStack
from common.mongo import UnitOfWork, database_name, mongo_client
from ticketing.events.v1 import users_pb2

KEY = "user.created"


async def commit_events(stack: BenchStack, service: str, count: int) -> set[str]:
    """One transaction with `count` events in `service`'s outbox; returns their user ids."""
    client = mongo_client(stack.mongo_url)
    try:
        db = client[database_name(stack.namespace, service)]
        uow = UnitOfWork(client, db, app_id=f"bench-{service}")
        ids = [uuid.uuid4().hex for _ in range(count)]
        async with uow:
            for user_id in ids:
                uow.record(users_pb2.UserCreated(id=user_id, email=f"{user_id}@bench.invalid"))
            await uow.commit()
        return set(ids)
    finally:
        await client.close()


@dataclass(frozen=True)
class Delivered:
    arrivals: list[Arrival]  # of the expected events only, in arrival order
    per_event: Counter  # messages seen per expected event id (> 1: a duplicate)
    missing: int

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.per_event.values() if n > 1)

    def rate(self) -> float | None:
        """Events per second from the first arrival to the last one."""
        if len(self.arrivals) < 2 or self.arrivals[-1].at <= self.arrivals[0].at:
            return None
        return (len(self.arrivals) - 1) / (self.arrivals[-1].at - self.arrivals[0].at)


async def wait_delivered(
    probe: EventProbe,
    expected: set[str],
    identify,
    key: str,
    timeout: float,
    quiet_seconds: float = 0.0,
) -> Delivered:
    """Until every expected event arrived and nothing more came for `quiet_seconds` (so late
    duplicates are counted too), at most `timeout` s. `identify` maps an arrival to its id."""
    deadline = time.monotonic() + timeout
    seen_count, quiet_since = -1, time.monotonic()
    while True:
        mine = [a for a in probe.arrivals(key) if identify(a) in expected]
        if len(mine) != seen_count:
            seen_count, quiet_since = len(mine), time.monotonic()
        per_event = Counter(identify(a) for a in mine)
        complete = len(per_event) == len(expected)
        if complete and time.monotonic() - quiet_since >= quiet_seconds:
            break
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    return Delivered(mine, per_event, len(expected) - len(per_event))


def user_id_of(arrival: Arrival) -> str:
    return arrival.json().get("id", "")
