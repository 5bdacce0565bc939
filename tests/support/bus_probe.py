"""Helpers for the event bus tests: injecting events, counting handlers, waiting for a state."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from common import events
from common.bus import EventConsumer
from tests.support import servers
from tests.support.tap import publish_raw, queue_depth
from ticketing.events.v1 import users_pb2


async def eventually(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def publish_event(amqp_url: str, namespace: str, event, event_id: str | None = None) -> str:
    event_id = event_id or str(uuid.uuid4())
    publish_raw(
        amqp_url,
        namespace,
        events.routing_key(type(event)),
        events.encode(event),
        event_id,
        events.type_name(event),
    )
    return event_id


def user_created(user_id: str) -> users_pb2.UserCreated:
    return users_pb2.UserCreated(id=user_id, email=f"{user_id}@example.com")


def doc(event, event_id: str | None = None) -> dict:
    return events.message_doc(event, event_id or str(uuid.uuid4()), "probe", datetime.now(UTC))


async def depth(amqp_url: str, queue: str) -> int:
    return await asyncio.to_thread(queue_depth, amqp_url, queue)


class InFlight:
    """Counts handlers running at once."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    def __enter__(self) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        self.now -= 1


def consumer(amqp_url, namespace, service, handlers, **options) -> EventConsumer:
    options.setdefault("max_attempts", 3)
    options.setdefault("retry_delays_ms", servers.TEST_RETRY_DELAYS_MS)
    return EventConsumer(
        amqp_url, namespace, service, handlers, asyncio.get_running_loop(), **options
    )
