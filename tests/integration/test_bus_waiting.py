"""Waiting is not failing: an event ahead of its predecessor waits on its own budget, a handler
failure keeps the short one."""

from __future__ import annotations

import asyncio

import pytest
import redis
from pymongo.errors import AutoReconnect

from common import bus
from common.errors import NotYet
from common.retries import ConcurrentUpdate
from tests.support.bus_probe import consumer, depth, eventually, publish_event, user_created
from ticketing.events.v1 import users_pb2

pytestmark = pytest.mark.integration


async def test_an_early_event_waits_on_its_own_budget_then_is_dead_lettered_saying_why(
    namespace, amqp_url
):
    attempts: list[int] = []

    async def never_ready(event, delivery):
        attempts.append(delivery.attempt)
        raise NotYet("user u1 is unknown here")

    probe = consumer(
        amqp_url,
        namespace,
        "probe",
        {users_pb2.UserCreated: never_ready},
        max_attempts=2,
        wait_budget_seconds=1.0,
    )
    probe.start()
    try:
        await probe.wait_ready()
        event_id = publish_event(amqp_url, namespace, user_created("u1"))
        dead = bus.dead_queue_name(namespace, "probe")

        async def dead_lettered():
            return await depth(amqp_url, dead) == 1

        await eventually(dead_lettered)
    finally:
        await probe.stop()
    # Far more tries than the failure budget of 2: waiting is not failing.
    assert len(attempts) > 4
    [letter] = await asyncio.to_thread(bus.dead_letters, amqp_url, namespace, "probe")
    assert letter["event_id"] == event_id
    assert "predecessor" in letter["error"] and "EVENT_WAIT_BUDGET_SECONDS" in letter["error"]
    assert "user u1 is unknown here" in letter["error"]


async def test_an_early_event_whose_predecessor_comes_is_handled(namespace, amqp_url):
    known: set[str] = set()
    applied: list[str] = []

    async def handler(event, delivery):
        if event.email == "second" and "first" not in known:
            raise NotYet("first not seen")
        known.add(event.email)
        applied.append(event.email)

    probe = consumer(
        amqp_url,
        namespace,
        "probe",
        {users_pb2.UserCreated: handler},
        max_attempts=1,  # a real failure would be dead-lettered at once
        wait_budget_seconds=60.0,
    )
    probe.start()
    try:
        await probe.wait_ready()
        publish_event(amqp_url, namespace, users_pb2.UserCreated(id="u1", email="second"))
        await asyncio.sleep(1.0)  # several retries of the early one
        publish_event(amqp_url, namespace, users_pb2.UserCreated(id="u1", email="first"))

        async def both_applied():
            return applied == ["first", "second"]

        await eventually(both_applied)
    finally:
        await probe.stop()
    assert await depth(amqp_url, bus.dead_queue_name(namespace, "probe")) == 0


async def test_real_failures_keep_the_short_budget_even_after_waiting(namespace, amqp_url):
    attempts: list[int] = []

    async def waits_then_fails(event, delivery):
        attempts.append(delivery.attempt)
        if len(attempts) <= 2:
            raise NotYet("predecessor missing")
        raise RuntimeError("downstream bug")

    probe = consumer(
        amqp_url,
        namespace,
        "probe",
        {users_pb2.UserCreated: waits_then_fails},
        max_attempts=3,
        wait_budget_seconds=600.0,
    )
    probe.start()
    try:
        await probe.wait_ready()
        publish_event(amqp_url, namespace, user_created("u1"))
        dead = bus.dead_queue_name(namespace, "probe")

        async def dead_lettered():
            return await depth(amqp_url, dead) == 1

        await eventually(dead_lettered)
    finally:
        await probe.stop()
    assert attempts == [1, 2, 3, 4, 5]  # two waits, then three failures
    [letter] = await asyncio.to_thread(bus.dead_letters, amqp_url, namespace, "probe")
    assert letter["attempts"] == 5
    assert "downstream bug" in letter["error"]


@pytest.mark.parametrize(
    "outage",
    [
        # What a transaction left open by a killed replica causes until the server aborts it.
        lambda: ConcurrentUpdate("tickets/t1 changed meanwhile"),
        lambda: redis.ConnectionError("Connection refused"),
        lambda: AutoReconnect("connection closed"),
    ],
    ids=["write-conflict", "redis-down", "mongo-dropped"],
)
async def test_a_dependency_outage_waits_on_the_long_budget_and_the_event_is_handled(
    namespace, amqp_url, outage
):
    attempts: list[int] = []

    async def handler(event, delivery):
        attempts.append(delivery.attempt)
        if len(attempts) <= 4:  # more than the failure budget below
            raise outage()

    probe = consumer(
        amqp_url,
        namespace,
        "probe",
        {users_pb2.UserCreated: handler},
        max_attempts=2,
        wait_budget_seconds=60.0,
    )
    probe.start()
    try:
        await probe.wait_ready()
        publish_event(amqp_url, namespace, user_created("u1"))

        async def handled():
            return len(attempts) == 5

        await eventually(handled)
        # A sentinel handled after it proves no further delivery of the first is under way.
        publish_event(amqp_url, namespace, user_created("sentinel"))

        async def sentinel_handled():
            return len(attempts) == 6

        await eventually(sentinel_handled)
    finally:
        await probe.stop()
    assert attempts[:5] == [1, 2, 3, 4, 5]
    assert await depth(amqp_url, bus.dead_queue_name(namespace, "probe")) == 0
