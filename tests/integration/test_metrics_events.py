"""A consumer's events as the metrics count them, against the real RabbitMQ: consumed, retried
(waiting or failed) and dead-lettered (unreadable, failed), by type and reason."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from prometheus_client import REGISTRY

from common import bus
from common.errors import NotYet
from tests.support.bus_probe import consumer, depth, eventually, publish_event, user_created
from tests.support.tap import publish_raw
from ticketing.events.v1 import users_pb2

pytestmark = pytest.mark.integration


def count(name: str, service: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"service": service, **labels}) or 0.0


async def test_consumed_retried_and_dead_lettered_events_are_counted(namespace, amqp_url):
    service = f"probe{uuid.uuid4().hex[:6]}"  # its own series: the registry is the process's
    attempts: Counter[str] = Counter()

    async def handle(event, delivery):
        attempts[event.id] += 1
        if event.id == "failing":
            raise RuntimeError("a handler bug")
        if event.id == "early" and attempts[event.id] == 1:
            raise NotYet("its predecessor has not arrived")

    probe = consumer(amqp_url, namespace, service, {users_pb2.UserCreated: handle}, max_attempts=3)
    probe.start()
    try:
        await probe.wait_ready()
        for user in ("fine", "early", "failing"):
            publish_event(amqp_url, namespace, user_created(user))
        publish_raw(
            amqp_url,
            namespace,
            "user.created",
            b"not json",
            str(uuid.uuid4()),
            users_pb2.UserCreated.DESCRIPTOR.full_name,
        )

        async def settled():
            dead = await depth(amqp_url, bus.dead_queue_name(namespace, service))
            consumed = count("ticketing_events_consumed_total", service, type="UserCreated")
            return dead == 2 and consumed == 2

        await eventually(settled)
    finally:
        await probe.stop()

    def of(name: str, **labels: str) -> float:
        return count(name, service, type="UserCreated", **labels)

    assert of("ticketing_events_retried_total", reason="waiting") == 1
    assert of("ticketing_events_retried_total", reason="failed") == 2  # tries 1 and 2 of 3
    assert of("ticketing_events_dead_lettered_total", reason="failed") == 1
    assert of("ticketing_events_dead_lettered_total", reason="unreadable") == 1
    # Every delivery was timed: fine 1, early 2, failing 3, the unreadable one 1.
    assert of("ticketing_event_handling_seconds_count") == 7
    assert count("ticketing_events_in_flight", service) == 0
