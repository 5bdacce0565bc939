"""The event bus under concurrency, idleness and early events, against the real RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from common import bus, events
from common.bus import EventConsumer, RabbitPublisher
from common.clock import SystemClock
from common.errors import NotYet
from common.mongo import database_name, mongo_client
from svc_orders.service_layer.handlers import OrderHandlers
from svc_orders.service_layer.unit_of_work import MongoOrdersUnitOfWork
from tests.support import servers
from tests.support.tap import EventTap, publish_raw, queue_depth
from ticketing.events.v1 import tickets_pb2, users_pb2

pytestmark = pytest.mark.integration


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


# -- concurrency ------------------------------------------------------------------------------


async def test_a_consumer_handles_up_to_prefetch_messages_at_once(namespace, amqp_url):
    in_flight = InFlight()
    release = asyncio.Event()
    handled: list[str] = []

    async def slow(event, delivery):
        with in_flight:
            await release.wait()
            handled.append(event.id)

    probe = consumer(amqp_url, namespace, "probe", {users_pb2.UserCreated: slow}, prefetch=4)
    probe.start()
    try:
        await probe.wait_ready()
        for i in range(10):
            publish_event(amqp_url, namespace, user_created(f"u{i}"))

        async def four_at_once():
            return in_flight.now == 4

        await eventually(four_at_once)
        release.set()

        async def all_handled():
            return len(handled) == 10

        await eventually(all_handled)
    finally:
        await probe.stop()
    assert in_flight.most == 4  # as many as the prefetch, never more
    assert sorted(handled) == sorted(f"u{i}" for i in range(10))
    assert await depth(amqp_url, bus.queue_name(namespace, "probe")) == 0


async def test_out_of_order_versions_of_one_ticket_handled_concurrently_end_in_the_last_one(
    namespace, amqp_url, mongo_url
):
    """The orders service's ticket copies under real concurrency: every update of one ticket is
    published newest first, before the ticket's creation, and handled 32 at a time."""
    mongo = mongo_client(mongo_url)
    db = mongo[database_name(namespace, "orders")]
    handlers = OrderHandlers(
        uow=lambda: MongoOrdersUnitOfWork(mongo, db, "orders"),
        clock=SystemClock(),
        hold_for=timedelta(minutes=15),
    )
    in_flight = InFlight()

    def counted(handler):
        async def run(event, delivery):
            with in_flight:
                await handler(event, delivery)

        return run

    orders = consumer(
        amqp_url,
        namespace,
        "orders",
        {kind: counted(fn) for kind, fn in handlers.event_handlers.items()},
        prefetch=32,
    )
    orders.start()
    last = 20
    try:
        await orders.wait_ready()
        for version in range(last, 0, -1):
            publish_event(
                amqp_url,
                namespace,
                tickets_pb2.TicketUpdated(
                    id="t1",
                    version=version,
                    title=f"v{version}",
                    price=f"{version}.00",
                    user_id="s",
                ),
            )
        publish_event(
            amqp_url,
            namespace,
            tickets_pb2.TicketCreated(id="t1", version=0, title="v0", price="1.00", user_id="s"),
        )

        async def at_last_version():
            copy = await db.tickets.find_one({"_id": "t1"})
            return copy is not None and copy["version"] == last

        await eventually(at_last_version, timeout=60)
    finally:
        await orders.stop()
    copy = await db.tickets.find_one({"_id": "t1"})
    await mongo.close()
    assert (copy["title"], copy["price"]) == (f"v{last}", f"{last}.00")
    assert in_flight.most > 1  # really concurrent
    assert await depth(amqp_url, bus.dead_queue_name(namespace, "orders")) == 0


async def test_heartbeats_flow_while_a_handler_runs(namespace, amqp_url):
    """A handler longer than two heartbeats: the connection stays, the message is acked once."""
    calls: list[str] = []

    async def long(event, delivery):
        calls.append(event.id)
        if event.id == "slow":
            await asyncio.sleep(5)

    probe = consumer(
        amqp_url, namespace, "probe", {users_pb2.UserCreated: long}, heartbeat_seconds=1
    )
    probe.start()
    try:
        await probe.wait_ready()
        publish_event(amqp_url, namespace, user_created("slow"))
        await asyncio.sleep(5.5)
        publish_event(amqp_url, namespace, user_created("sentinel"))

        async def sentinel_handled():
            return "sentinel" in calls

        await eventually(sentinel_handled)
    finally:
        await probe.stop()
    assert calls == ["slow", "sentinel"]  # not delivered again after a dropped connection


async def test_stopping_lets_handlers_in_hand_finish_and_acks_them(namespace, amqp_url):
    started = asyncio.Event()
    finished: list[str] = []

    async def slow(event, delivery):
        started.set()
        await asyncio.sleep(0.5)
        finished.append(event.id)

    probe = consumer(amqp_url, namespace, "probe", {users_pb2.UserCreated: slow})
    probe.start()
    await probe.wait_ready()
    publish_event(amqp_url, namespace, user_created("u1"))
    await asyncio.wait_for(started.wait(), 10)
    await probe.stop()
    assert finished == ["u1"]
    assert await depth(amqp_url, bus.queue_name(namespace, "probe")) == 0


async def test_a_consumer_comes_back_after_the_broker_connection_drops(namespace, amqp_url):
    proxy = servers.TcpProxy(target_port=5672)
    proxy.start()
    handled: list[str] = []

    async def record(event, delivery):
        handled.append(event.id)

    probe = consumer(
        servers.amqp_url_via(proxy.port), namespace, "probe", {users_pb2.UserCreated: record}
    )
    probe.start()
    try:
        await probe.wait_ready()
        proxy.stop()
        publish_event(amqp_url, namespace, user_created("during"))  # queued by the broker
        await asyncio.sleep(0.5)
        proxy.start()

        async def handled_after_return():
            return handled == ["during"]

        await eventually(handled_after_return)
    finally:
        await probe.stop()
        proxy.stop()


# -- publishing -------------------------------------------------------------------------------


async def test_publishing_after_idling_past_the_heartbeat_uses_the_same_connection(
    namespace, amqp_url, caplog
):
    tap = EventTap(amqp_url, namespace)
    publisher = RabbitPublisher(amqp_url, namespace, heartbeat_seconds=2)
    try:
        with caplog.at_level(logging.WARNING):
            await publisher.publish([doc(user_created("warm"))])
            await asyncio.sleep(6)  # three heartbeats: a silent client would have been dropped
            await publisher.publish([doc(user_created("after-idle"))])
        seen = await asyncio.to_thread(tap.wait_for, 2)
    finally:
        await publisher.close()
        tap.close()
    assert [json.loads(s.body)["id"] for s in seen] == ["warm", "after-idle"]
    assert publisher.connections_opened == 1
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_batch_is_published_whole_and_confirmed(namespace, amqp_url):
    tap = EventTap(amqp_url, namespace)
    publisher = RabbitPublisher(amqp_url, namespace)
    ids = [f"u{i}" for i in range(500)]
    try:
        await publisher.publish([doc(user_created(i)) for i in ids])
        seen = await asyncio.to_thread(tap.wait_for, len(ids))
    finally:
        await publisher.close()
        tap.close()
    assert [json.loads(s.body)["id"] for s in seen] == ids


async def test_publish_raises_when_the_broker_refuses_part_of_a_batch(namespace, amqp_url):
    """A full queue that rejects publishes makes the broker nack: the relay must keep those."""
    publisher = RabbitPublisher(amqp_url, namespace)
    connection = bus.connect(amqp_url)
    channel = connection.channel()
    full = f"{namespace}.full"
    try:
        exchange = bus.declare_exchange(channel, namespace)
        channel.queue_declare(
            full, arguments={"x-max-length": 1, "x-overflow": "reject-publish"}, auto_delete=True
        )
        channel.queue_bind(full, exchange, routing_key="user.created")
        with pytest.raises(bus.Nacked):
            await publisher.publish([doc(user_created(f"u{i}")) for i in range(3)])
        # The channel is still good for the next batch.
        channel.queue_purge(full)
        await publisher.publish([doc(user_created("next"))])
        assert publisher.connections_opened == 1
    finally:
        await publisher.close()
        channel.queue_delete(full)
        connection.close()


# -- waiting is not failing -------------------------------------------------------------------


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
