"""The transactional outbox and the event bus against real SecantusDB and RabbitMQ."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import pytest

from common import bus, events
from common.bus import EventConsumer, RabbitPublisher
from common.mongo import OUTBOX, UnitOfWork, database_name, mongo_client
from common.outbox import OutboxRelay
from common.retries import retry_transient
from tests.support import servers
from tests.support.tap import EventTap, publish_raw, queue_depth
from ticketing.events.v1 import users_pb2

pytestmark = pytest.mark.integration


@pytest.fixture
async def mongo(mongo_url):
    client = mongo_client(mongo_url)
    yield client
    await client.close()


@pytest.fixture
def db(mongo, namespace):
    return mongo[database_name(namespace, "probe")]


@retry_transient()  # as every service's writer: the relay's claims may conflict with the insert
async def commit_events(mongo, db, *evs) -> None:
    async with UnitOfWork(mongo, db, "probe") as uow:
        for event in evs:
            uow.record(event)
        await uow.commit()


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay):
    task = asyncio.create_task(relay.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_published_event_carries_documented_properties_and_json_body(
    mongo, db, namespace, amqp_url
):
    tap = EventTap(amqp_url, namespace)
    publisher = RabbitPublisher(amqp_url, namespace)
    try:
        await commit_events(mongo, db, users_pb2.UserCreated(id="u1", email="a@example.com"))
        assert await OutboxRelay(db[OUTBOX], publisher.publish).publish_pending() == 1
        [seen] = tap.wait_for(1)
    finally:
        await publisher.close()
        tap.close()
    props = seen.properties
    assert seen.routing_key == "user.created"
    assert uuid.UUID(props.message_id)
    assert props.type == "ticketing.events.v1.UserCreated"
    assert props.content_type == "application/json"
    assert props.app_id == "probe"
    assert props.delivery_mode == 2
    assert isinstance(props.timestamp, int) and props.timestamp > 1_700_000_000
    assert json.loads(seen.body) == {"id": "u1", "email": "a@example.com"}
    # Marked sent: a second pass publishes nothing.
    assert await db[OUTBOX].count_documents({"sent_at": None}) == 0


async def test_rolled_back_unit_of_work_leaves_no_event(mongo, db):
    async with UnitOfWork(mongo, db, "probe") as uow:
        uow.record(users_pb2.UserCreated(id="u1", email="a@example.com"))
        # leaving without commit
    assert await db[OUTBOX].count_documents({}) == 0


async def test_events_committed_before_a_crash_are_published_after_restart(
    mongo, db, namespace, amqp_url
):
    # The process committed and died before its relay ran: only the outbox knows.
    await commit_events(
        mongo,
        db,
        users_pb2.UserCreated(id="u1", email="a@example.com"),
        users_pb2.UserUpdated(id="u1", email="a@example.com", version=1),
    )
    tap = EventTap(amqp_url, namespace)
    publisher = RabbitPublisher(amqp_url, namespace)
    relay = OutboxRelay(db[OUTBOX], publisher.publish, poll_seconds=0.05)
    try:
        async with running(relay):  # the restarted process
            seen = await asyncio.to_thread(tap.wait_for, 2)
    finally:
        await publisher.close()
        tap.close()
    assert [s.routing_key for s in seen] == ["user.created", "user.updated"]


async def test_relay_survives_a_broker_outage_and_publishes_when_it_returns(
    mongo, db, namespace, amqp_url
):
    proxy = servers.TcpProxy(target_port=5672)
    proxy.start()
    tap = EventTap(amqp_url, namespace)
    publisher = RabbitPublisher(servers.amqp_url_via(proxy.port), namespace)
    failed_attempts = 0

    async def publish(docs):
        nonlocal failed_attempts
        try:
            await publisher.publish(docs)
        except Exception:
            failed_attempts += 1
            raise

    relay = OutboxRelay(db[OUTBOX], publish, poll_seconds=0.05, max_backoff_seconds=0.3)
    try:
        async with running(relay):
            await commit_events(
                mongo, db, users_pb2.UserCreated(id="before", email="b@example.com")
            )
            relay.wake()
            assert len(await asyncio.to_thread(tap.wait_for, 1)) == 1

            proxy.stop()  # the broker goes away mid-flight
            await commit_events(mongo, db, users_pb2.UserCreated(id="during", email="d@ex.com"))
            relay.wake()

            # The sentinel: a second failed attempt, so the relay has handled the first failure
            # (a relay that dropped the event would not try it again).
            async def tried_twice():
                return failed_attempts >= 2

            await eventually(tried_twice)
            assert await db[OUTBOX].count_documents({"sent_at": None}) == 1  # kept, not lost

            proxy.start()  # and comes back; nobody intervenes
            seen = await asyncio.to_thread(tap.wait_for, 2, 15.0)
    finally:
        await publisher.close()
        tap.close()
        proxy.stop()
    assert [json.loads(s.body)["id"] for s in seen] == ["before", "during"]
    assert await db[OUTBOX].count_documents({"sent_at": None}) == 0


def _consumer(amqp_url, namespace, service, handler, max_attempts=3) -> EventConsumer:
    return EventConsumer(
        amqp_url,
        namespace,
        service,
        {users_pb2.UserCreated: handler},
        asyncio.get_running_loop(),
        max_attempts=max_attempts,
        retry_delays_ms=servers.TEST_RETRY_DELAYS_MS,
    )


def _user_created(event_id: str, user_id: str = "u1") -> dict:
    event = users_pb2.UserCreated(id=user_id, email="a@example.com")
    return {
        "routing_key": "user.created",
        "body": events.encode(event),
        "message_id": event_id,
        "type_name": events.type_name(event),
    }


async def test_duplicate_delivery_changes_nothing(mongo, db, namespace, amqp_url):
    handled: list[str] = []  # each delivery whose handler returned (the consumer then acks it)

    async def count_user(event, delivery):
        async with UnitOfWork(mongo, db, "probe") as uow:
            if await uow.already_processed(delivery.event_id):
                handled.append(event.id)
                return
            await db.counts.update_one(
                {"_id": event.id}, {"$inc": {"n": 1}}, upsert=True, session=uow.session
            )
            await uow.commit()
        handled.append(event.id)

    consumer = _consumer(amqp_url, namespace, "probe", count_user)
    consumer.start()
    try:
        await consumer.wait_ready()
        event_id = str(uuid.uuid4())
        for _ in range(3):  # the broker redelivers, a relay publishes twice...
            publish_raw(amqp_url, namespace, **_user_created(event_id))
        publish_raw(amqp_url, namespace, **_user_created(str(uuid.uuid4()), "u2"))

        # The sentinel: all four deliveries handled to the end, so no duplicate is still to be
        # applied when the counts are read.
        async def all_four_handled():
            return sorted(handled) == ["u1", "u1", "u1", "u2"]

        await eventually(all_four_handled)
    finally:
        await consumer.stop()
    assert await db.counts.find_one({"_id": "u1"}) == {"_id": "u1", "n": 1}
    assert await db.counts.find_one({"_id": "u2"}) == {"_id": "u2", "n": 1}


async def test_poison_message_is_retried_then_dead_lettered_then_replayable(namespace, amqp_url):
    attempts: list[int] = []
    broken = True

    async def flaky(event, delivery):
        attempts.append(delivery.attempt)
        if broken:
            raise RuntimeError("downstream bug")

    consumer = _consumer(amqp_url, namespace, "flaky", flaky, max_attempts=3)
    consumer.start()
    try:
        await consumer.wait_ready()
        event_id = str(uuid.uuid4())
        publish_raw(amqp_url, namespace, **_user_created(event_id))
        dead = bus.dead_queue_name(namespace, "flaky")

        async def dead_lettered():
            return await asyncio.to_thread(queue_depth, amqp_url, dead) == 1

        await eventually(dead_lettered)
        assert attempts == [1, 2, 3]  # bounded: tried max_attempts times, no more
        [letter] = await asyncio.to_thread(bus.dead_letters, amqp_url, namespace, "flaky")
        assert letter["event_id"] == event_id
        assert letter["attempts"] == 3
        assert "downstream bug" in letter["error"]
        assert await asyncio.to_thread(queue_depth, amqp_url, dead) == 1  # peeking kept it

        broken = False  # the fix is deployed; the operator replays
        moved = await asyncio.to_thread(bus.replay_dead_letters, amqp_url, namespace, "flaky")
        assert moved == 1

        async def handled_again():
            return len(attempts) == 4

        await eventually(handled_again)
    finally:
        await consumer.stop()
    assert attempts[-1] == 1  # a replayed message starts counting again
    assert await asyncio.to_thread(queue_depth, amqp_url, dead) == 0


async def test_unreadable_message_is_dead_lettered_at_once(namespace, amqp_url):
    calls = []

    async def handler(event, delivery):
        calls.append(event)

    consumer = _consumer(amqp_url, namespace, "flaky", handler)
    consumer.start()
    try:
        await consumer.wait_ready()
        publish_raw(
            amqp_url,
            namespace,
            "user.created",
            b"{not json",
            str(uuid.uuid4()),
            "ticketing.events.v1.UserCreated",
        )
        dead = bus.dead_queue_name(namespace, "flaky")

        async def dead_lettered():
            return await asyncio.to_thread(queue_depth, amqp_url, dead) == 1

        await eventually(dead_lettered)
    finally:
        await consumer.stop()
    assert calls == []
    [letter] = await asyncio.to_thread(bus.dead_letters, amqp_url, namespace, "flaky")
    assert letter["attempts"] == 1 and "cannot decode" in letter["error"]
