"""Several relays on one outbox (the replicas of a service), a relay dying mid-batch, and how
long sent events and processed-event ids are kept: against real SecantusDB and RabbitMQ."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from datetime import timedelta

import pytest

from common import events
from common.bus import RabbitPublisher
from common.clock import FrozenClock
from common.mongo import INBOX, OUTBOX, UnitOfWork, database_name, mongo_client
from common.outbox import OutboxRelay
from common.retention import EventRetention
from common.retries import retry_transient
from tests.support.tap import EventTap, publish_raw
from ticketing.events.v1 import users_pb2

pytestmark = pytest.mark.integration

SENTINEL = "sentinel"


@pytest.fixture
async def mongo(mongo_url):
    client = mongo_client(mongo_url)
    yield client
    await client.close()


@pytest.fixture
def db(mongo, namespace):
    return mongo[database_name(namespace, "probe")]


@pytest.fixture
def tap(amqp_url, namespace):
    probe = EventTap(amqp_url, namespace)
    yield probe
    probe.close()


def user_created(user_id: str) -> users_pb2.UserCreated:
    return users_pb2.UserCreated(id=user_id, email=f"{user_id}@example.com")


@retry_transient()  # as a service's handlers are: concurrent commits may conflict
async def commit_events(mongo, db, *evs, clock=None, relay=None) -> None:
    async with UnitOfWork(mongo, db, "probe", clock, relay=relay) as uow:
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


def user_ids(seen) -> list[str]:
    return [json.loads(s.body)["id"] for s in seen]


def seen_until_sentinel(tap: EventTap, amqp_url: str, namespace: str) -> list[str]:
    """Every user id the tap has seen (sentinels left out), up to a sentinel published now
    straight to the exchange: what was published before it is ahead of it in the queue, so
    nothing more is pending."""
    sentinel = f"{SENTINEL}-{uuid.uuid4().hex}"
    publish_raw(
        amqp_url,
        namespace,
        "user.created",
        json.dumps({"id": sentinel}).encode(),
        sentinel,
        "ticketing.events.v1.UserCreated",
    )
    deadline = time.monotonic() + 10
    while sentinel not in (ids := user_ids(tap.drain())):
        if time.monotonic() > deadline:
            raise AssertionError("the sentinel never arrived")
        tap.connection.sleep(0.05)
    assert ids[-1] == sentinel
    return [i for i in ids if not i.startswith(SENTINEL)]


async def test_three_relays_on_one_outbox_publish_each_event_exactly_once(
    mongo, db, namespace, amqp_url, tap
):
    publishers = [RabbitPublisher(amqp_url, namespace) for _ in range(3)]

    def slow(publisher: RabbitPublisher):
        # A broker that takes a moment to confirm: relays overlap in the middle of batches.
        async def publish(docs):
            await asyncio.sleep(0.02)
            await publisher.publish(docs)

        return publish

    relays = [
        OutboxRelay(db[OUTBOX], slow(p), poll_seconds=0.05, batch_size=10) for p in publishers
    ]

    async def replica(index: int, relay: OutboxRelay | None) -> None:
        # Each replica commits its own events for its own relay, as a service's would; the
        # fourth has no relay (it crashed), so the three race to claim its events.
        for n in range(10):
            await commit_events(
                mongo,
                db,
                user_created(f"r{index}-{n}-a"),
                user_created(f"r{index}-{n}-b"),
                relay=relay,
            )

    expected = sorted(f"r{i}-{n}-{x}" for i in range(4) for n in range(10) for x in "ab")
    try:
        async with running(relays[0]), running(relays[1]), running(relays[2]):
            await asyncio.gather(*(replica(i, r) for i, r in enumerate([*relays, None])))

            async def all_sent():
                return await db[OUTBOX].count_documents({"sent_at": None}) == 0

            await eventually(all_sent)
    finally:
        for publisher in publishers:
            await publisher.close()  # after this, no relay can put anything more on the wire
    published = await asyncio.to_thread(seen_until_sentinel, tap, amqp_url, namespace)
    assert sorted(published) == expected  # every event, and none twice


async def test_a_relay_that_dies_mid_batch_leaves_its_events_to_another_after_the_lease(
    mongo, db, namespace, amqp_url, tap
):
    clock = FrozenClock()
    await commit_events(mongo, db, *(user_created(f"u{n}") for n in range(3)), clock=clock)

    claimed = asyncio.Event()

    async def hangs(docs):
        claimed.set()
        await asyncio.Event().wait()  # the process froze or lost the network: it never returns

    doomed = OutboxRelay(db[OUTBOX], hangs, claim_seconds=10, clock=clock)
    dead = asyncio.create_task(doomed.publish_pending())
    await asyncio.wait_for(claimed.wait(), 10)

    publisher = RabbitPublisher(amqp_url, namespace)
    survivor = OutboxRelay(db[OUTBOX], publisher.publish, clock=clock)
    try:
        # While the claim holds, a whole pass of the survivor publishes what it can (an event
        # committed since), not the claimed ones.
        await commit_events(mongo, db, user_created("later"), clock=clock, relay=survivor)
        assert await survivor.publish_pending() == 1
        assert await asyncio.to_thread(seen_until_sentinel, tap, amqp_url, namespace) == ["later"]

        clock.advance(10)  # the dead relay's lease runs out
        assert await survivor.publish_pending() == 3
    finally:
        await publisher.close()
        dead.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await dead
    everything = await asyncio.to_thread(seen_until_sentinel, tap, amqp_url, namespace)
    assert everything == ["later", "u0", "u1", "u2"]  # in order, and none twice
    assert await db[OUTBOX].count_documents({"sent_at": None}) == 0


async def test_events_of_a_process_that_died_after_committing_are_published_after_the_lease(
    mongo, db, namespace, amqp_url, tap
):
    clock = FrozenClock()

    async def never_runs(docs):
        raise AssertionError("the dead process's relay published")

    dead = OutboxRelay(db[OUTBOX], never_runs, claim_seconds=10, clock=clock)
    # Committed, claimed for the process's own relay, and the process is killed before that
    # relay runs.
    await commit_events(mongo, db, user_created("orphan"), clock=clock, relay=dead)

    publisher = RabbitPublisher(amqp_url, namespace)
    survivor = OutboxRelay(db[OUTBOX], publisher.publish, clock=clock)
    try:
        await commit_events(mongo, db, user_created("later"), clock=clock, relay=survivor)
        assert await survivor.publish_pending() == 1  # its own event; the claim holds
        assert await asyncio.to_thread(seen_until_sentinel, tap, amqp_url, namespace) == ["later"]

        clock.advance(10)
        assert await survivor.publish_pending() == 1
    finally:
        await publisher.close()
    everything = await asyncio.to_thread(seen_until_sentinel, tap, amqp_url, namespace)
    assert everything == ["later", "orphan"]


async def test_a_relay_whose_publish_fails_lets_another_publish_at_once(
    mongo, db, namespace, amqp_url, tap
):
    clock = FrozenClock()
    await commit_events(mongo, db, user_created("u1"), clock=clock)

    async def broker_refuses(docs):
        raise ConnectionError("broker unreachable from this replica")

    failing = OutboxRelay(db[OUTBOX], broker_refuses, clock=clock)
    with pytest.raises(ConnectionError):
        await failing.publish_pending()

    publisher = RabbitPublisher(amqp_url, namespace)
    try:
        # Same clock, not advanced: the failed claim was released, not left to expire.
        assert await OutboxRelay(db[OUTBOX], publisher.publish, clock=clock).publish_pending() == 1
    finally:
        await publisher.close()
    assert user_ids(await asyncio.to_thread(tap.wait_for, 1)) == ["u1"]


async def test_sent_events_and_processed_ids_are_forgotten_after_the_retention(
    mongo, db, namespace, amqp_url
):
    clock = FrozenClock()
    start = clock.now()
    publisher = RabbitPublisher(amqp_url, namespace)
    relay = OutboxRelay(db[OUTBOX], publisher.publish, clock=clock)

    async def process(event_id: str) -> None:
        async with UnitOfWork(mongo, db, "probe", clock) as uow:
            assert not await uow.already_processed(event_id)
            await uow.commit()

    try:
        await commit_events(mongo, db, user_created("old"), clock=clock)
        assert await relay.publish_pending() == 1
        await process("old-event")

        clock.advance(timedelta(hours=100).total_seconds())
        await commit_events(mongo, db, user_created("recent"), clock=clock)
        assert await relay.publish_pending() == 1
        await process("recent-event")
    finally:
        await publisher.close()
    # Committed at the start and never published (the broker never took it): kept, however old.
    clock.at = start
    await commit_events(mongo, db, user_created("stuck"), clock=clock)

    clock.at = start + timedelta(hours=169)
    retention = EventRetention(db, timedelta(hours=168), clock)
    purged = await retention.purge()

    assert (purged.sent_events, purged.processed_ids) == (1, 1)
    kept = {json.loads(d["body"])["id"]: d["sent_at"] async for d in db[OUTBOX].find()}
    assert kept == {"recent": start + timedelta(hours=100), "stuck": None}
    assert [d["_id"] async for d in db[INBOX].find()] == ["recent-event"]
    # The id kept still stops a redelivery of its event.
    async with UnitOfWork(mongo, db, "probe", clock) as uow:
        assert await uow.already_processed("recent-event")


async def test_events_written_by_the_previous_version_are_published(
    mongo, db, namespace, amqp_url, tap
):
    # During a rolling update, a replica of the previous version writes documents that carry no
    # claim fields at all.
    event = user_created("legacy")
    doc = events.message_doc(event, "legacy-event", "probe", FrozenClock().now())
    await db[OUTBOX].insert_one({**doc, "order_key": "0", "sent_at": None})

    publisher = RabbitPublisher(amqp_url, namespace)
    try:
        async with running(OutboxRelay(db[OUTBOX], publisher.publish, poll_seconds=0.05)):
            seen = await asyncio.to_thread(tap.wait_for, 1)
    finally:
        await publisher.close()
    assert user_ids(seen) == ["legacy"]
