"""The expiration schedule and its handlers, against a real Redis (a private key prefix per test)
and a FrozenClock: no test waits for an order to fall due."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from common import events, tracing
from common.bus import Delivery, PoisonMessage
from common.clock import FrozenClock
from common.errors import InvalidInput, NotFound
from common.protos import timestamp
from svc_expiration.adapters.redis_schedule import Scheduler, to_ms
from svc_expiration.domain.model import Expiration, ExpirationState, expired_event_id
from svc_expiration.entrypoints.events import event_handlers
from svc_expiration.entrypoints.fire_loop import FireLoop
from svc_expiration.service_layer.handlers import ExpirationHandlers
from ticketing.events.v1 import orders_pb2, payments_pb2

LEASE = 30


class FakePublisher:
    """Takes documents as RabbitPublisher.publish does; fails the first `failures` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.published: list[dict] = []
        self.calls = 0
        self.arrived = asyncio.Event()

    async def publish(self, docs: list[dict]) -> None:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker down")
        self.published.extend(docs)
        self.arrived.set()

    def order_ids(self) -> list[str]:
        return [json.loads(d["body"])["orderId"] for d in self.published]


@pytest.fixture
async def redis_clients(redis_url):
    """Two connections, as two replicas would have, to keys under a private prefix."""
    ns = f"u{uuid.uuid4().hex[:12]}"
    clients = [aioredis.from_url(redis_url), aioredis.from_url(redis_url)]
    yield ns, clients
    keys = [key async for key in clients[0].scan_iter(f"{ns}:*")]
    if keys:
        await clients[0].delete(*keys)
    for client in clients:
        await client.aclose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def scheduler(redis_clients) -> Scheduler:
    ns, clients = redis_clients
    return Scheduler(clients[0], ns)


@pytest.fixture
def other_replica(redis_clients) -> Scheduler:
    ns, clients = redis_clients
    return Scheduler(clients[1], ns)


def later(clock: FrozenClock, seconds: float):
    return clock.now() + timedelta(seconds=seconds)


async def claim(scheduler: Scheduler, clock: FrozenClock, batch: int = 100) -> list[str]:
    return await scheduler.claim_due(clock.now(), later(clock, LEASE), batch)


# -- the schedule ---------------------------------------------------------------------------


async def test_scheduling_twice_keeps_the_first_due_time(scheduler, clock):
    assert await scheduler.schedule("o1", later(clock, 10)) is True
    assert await scheduler.schedule("o1", later(clock, 99)) is False
    assert await scheduler.get("o1") == Expiration(
        "o1", later(clock, 10), ExpirationState.SCHEDULED
    )


async def test_claim_returns_only_due_orders_and_never_early(scheduler, clock):
    await scheduler.schedule("past", later(clock, -5))
    await scheduler.schedule("now", clock.now())
    await scheduler.schedule("soon", later(clock, 1))
    # Sub-millisecond due times round up: still not due at the millisecond before.
    await scheduler.schedule("tiny", clock.now() + timedelta(microseconds=400))
    assert sorted(await claim(scheduler, clock)) == ["now", "past"]
    assert await claim(scheduler, clock) == []

    clock.advance(0.001)
    assert await claim(scheduler, clock) == ["tiny"]
    clock.advance(1)
    assert await claim(scheduler, clock) == ["soon"]


async def test_a_claimed_order_is_not_claimed_by_another_replica_until_its_lease_ends(
    scheduler, other_replica, clock
):
    await scheduler.schedule("o1", clock.now())
    assert await claim(scheduler, clock) == ["o1"]
    assert await claim(other_replica, clock) == []

    clock.advance(LEASE - 0.001)
    assert await claim(other_replica, clock) == []
    clock.advance(0.001)  # the first replica died without publishing
    assert await claim(other_replica, clock) == ["o1"]
    assert await claim(scheduler, clock) == []


async def test_replicas_racing_for_the_same_orders_claim_each_once(scheduler, other_replica, clock):
    for i in range(50):
        await scheduler.schedule(f"o{i}", clock.now())
    results = await asyncio.gather(
        *(claim(replica, clock, batch=7) for replica in [scheduler, other_replica] * 10)
    )
    claimed = [order_id for result in results for order_id in result]
    assert sorted(claimed) == sorted(f"o{i}" for i in range(50))


async def test_batches_are_bounded_and_expired_leases_go_first(scheduler, clock):
    await scheduler.schedule("stale", clock.now())
    assert await claim(scheduler, clock) == ["stale"]
    clock.advance(LEASE)
    for i in range(4):
        await scheduler.schedule(f"o{i}", clock.now())
    assert await claim(scheduler, clock, batch=2) == ["stale", "o0"]
    assert await claim(scheduler, clock, batch=2) == ["o1", "o2"]
    assert await claim(scheduler, clock, batch=2) == ["o3"]


async def test_get_shows_a_claimed_order_as_firing_with_its_lease(scheduler, clock):
    due = clock.now()
    await scheduler.schedule("o1", due)
    clock.advance(0.5)
    await claim(scheduler, clock)
    assert await scheduler.get("o1") == Expiration(
        "o1", due, ExpirationState.FIRING, later(clock, LEASE)
    )
    assert await scheduler.get("unknown") is None


async def test_cancel_removes_a_scheduled_or_claimed_order_for_good(scheduler, clock):
    await scheduler.schedule("waiting", later(clock, 1))
    await scheduler.schedule("firing", clock.now())
    await claim(scheduler, clock)
    await scheduler.cancel("waiting", clock.now())
    await scheduler.cancel("firing", clock.now())
    assert await scheduler.get("waiting") is None and await scheduler.get("firing") is None

    clock.advance(LEASE + 1)
    assert await claim(scheduler, clock) == []
    # A redelivered OrderCreated does not bring it back.
    assert await scheduler.schedule("waiting", later(clock, 1)) is False
    assert await scheduler.get("waiting") is None


async def test_done_removes_a_fired_order_and_a_duplicate_order_created_is_ignored(
    scheduler, clock
):
    await scheduler.schedule("o1", clock.now())
    assert await claim(scheduler, clock) == ["o1"]
    assert await scheduler.schedule("o1", clock.now()) is False  # while firing
    await scheduler.done(["o1"], clock.now())
    assert await scheduler.get("o1") is None

    clock.advance(LEASE + 1)
    assert await claim(scheduler, clock) == []
    assert await scheduler.schedule("o1", clock.now()) is False  # after it fired
    assert await claim(scheduler, clock) == []


async def test_settled_orders_are_forgotten_after_a_while(redis_clients, clock):
    ns, clients = redis_clients
    scheduler = Scheduler(clients[0], ns, remember_seconds=60)
    await scheduler.cancel("o1", clock.now())
    clock.advance(59)
    await claim(scheduler, clock)
    assert await scheduler.schedule("o1", clock.now()) is False
    clock.advance(2)
    await claim(scheduler, clock)  # each pass drops what is older than `remember_seconds`
    assert await scheduler.schedule("o1", clock.now()) is True


async def test_a_released_order_can_be_claimed_again_at_once(scheduler, other_replica, clock):
    await scheduler.schedule("o1", clock.now())
    assert await claim(scheduler, clock) == ["o1"]
    await scheduler.release(["o1"], clock.now())
    assert await claim(other_replica, clock) == ["o1"]


async def test_next_due_is_the_earliest_due_time_or_lease_end(scheduler, clock):
    assert await scheduler.next_due() is None
    await scheduler.schedule("late", later(clock, 100))
    assert await scheduler.next_due() == later(clock, 100)
    await scheduler.schedule("now", clock.now())
    await claim(scheduler, clock)
    assert await scheduler.next_due() == later(clock, LEASE)


def test_milliseconds_round_down_for_now_and_up_for_due_times(clock):
    moment = clock.now() + timedelta(microseconds=1500)
    assert to_ms(moment) + 1 == to_ms(moment, round_up=True)
    assert to_ms(clock.now()) == to_ms(clock.now(), round_up=True)


# -- handlers -------------------------------------------------------------------------------


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def handlers(scheduler, publisher, clock) -> ExpirationHandlers:
    return ExpirationHandlers(scheduler, publisher.publish, clock, lease_seconds=LEASE)


async def test_fire_due_publishes_order_expired_then_unschedules(handlers, publisher, clock):
    await handlers.schedule_expiry("o1", clock.now())
    await handlers.schedule_expiry("o2", later(clock, 60))
    assert await handlers.fire_due() == 1

    [doc] = publisher.published
    assert doc["_id"] == expired_event_id("o1")
    assert doc["type"] == "ticketing.events.v1.OrderExpired"
    assert doc["routing_key"] == "order.expired"
    assert events.decode(doc["type"], doc["body"].encode()) == orders_pb2.OrderExpired(
        order_id="o1"
    )
    assert (doc["app_id"], doc["created_at"]) == ("expiration", clock.now())
    with pytest.raises(NotFound):
        await handlers.get_expiration("o1")
    assert (await handlers.get_expiration("o2")).state is ExpirationState.SCHEDULED
    assert await handlers.fire_due() == 0 and publisher.calls == 1


async def test_an_expiry_continues_the_trace_its_order_created_came_with(
    handlers, publisher, scheduler, redis_clients, clock, spans
):
    with tracing.tracer.start_as_current_span("process order.created") as consumed:
        await handlers.schedule_expiry("o1", clock.now())
    await handlers.schedule_expiry("o2", clock.now())  # an order scheduled outside any trace
    assert await handlers.fire_due() == 2

    by_order = {json.loads(d["body"])["orderId"]: d for d in publisher.published}
    ids = consumed.get_span_context()
    traceparent = by_order["o1"]["trace"]["traceparent"]
    assert traceparent.startswith(f"00-{ids.trace_id:032x}-{ids.span_id:016x}-")
    assert "trace" not in by_order["o2"]
    # Settled orders leave no context behind.
    _ns, clients = redis_clients
    assert await clients[0].hlen(scheduler.trace_key) == 0


async def test_a_cancelled_expiry_leaves_no_trace_context_behind(
    handlers, scheduler, redis_clients, clock, spans
):
    with tracing.tracer.start_as_current_span("process order.created"):
        await handlers.schedule_expiry("o1", later(clock, 60))
    _ns, clients = redis_clients
    assert await clients[0].hlen(scheduler.trace_key) == 1
    await handlers.cancel_expiry("o1")
    assert await clients[0].hlen(scheduler.trace_key) == 0


def test_an_orders_expiry_event_id_is_stable_and_its_own():
    assert expired_event_id("o1") == expired_event_id("o1") != expired_event_id("o2")
    assert uuid.UUID(expired_event_id("o1"))


async def test_a_failed_publish_gives_the_orders_back_for_the_next_pass(handlers, scheduler, clock):
    failing = FakePublisher(failures=1)
    handlers.publish = failing.publish
    await handlers.schedule_expiry("o1", clock.now())
    with pytest.raises(ConnectionError):
        await handlers.fire_due()
    assert failing.published == []
    still = await handlers.get_expiration("o1")
    assert still.state is ExpirationState.FIRING and still.lease_until == clock.now()

    assert await handlers.fire_due() == 1  # not waiting out the lease
    assert failing.order_ids() == ["o1"]
    assert await scheduler.get("o1") is None


async def test_get_expiration_needs_an_order_id_and_a_scheduled_order(handlers, clock):
    with pytest.raises(InvalidInput) as info:
        await handlers.get_expiration("")
    assert info.value.field == "orderId"
    with pytest.raises(NotFound):
        await handlers.get_expiration("nope")
    await handlers.schedule_expiry("o1", later(clock, 5))
    assert await handlers.get_expiration("o1") == Expiration(
        "o1", later(clock, 5), ExpirationState.SCHEDULED
    )


async def test_seconds_until_due_is_bounded_by_the_poll_interval(handlers, clock):
    assert await handlers.seconds_until_due(0.25) == 0.25
    await handlers.schedule_expiry("o1", later(clock, 0.1))
    assert await handlers.seconds_until_due(0.25) == pytest.approx(0.1)
    clock.advance(1)
    assert await handlers.seconds_until_due(0.25) == 0.0


# -- entrypoints ----------------------------------------------------------------------------


def delivery(event_type: str) -> Delivery:
    return Delivery(str(uuid.uuid4()), event_type, "key", 1, "orders")


async def test_events_schedule_and_cancel_expiries(handlers, clock):
    woken: list[bool] = []
    on = event_handlers(handlers, on_scheduled=lambda: woken.append(True))
    created = orders_pb2.OrderCreated(id="o1", expires_at=timestamp(later(clock, 60)))
    await on[orders_pb2.OrderCreated](created, delivery("OrderCreated"))
    await on[orders_pb2.OrderCreated](
        orders_pb2.OrderCreated(id="o2", expires_at=timestamp(later(clock, 60))),
        delivery("OrderCreated"),
    )
    assert woken == [True, True]
    assert (await handlers.get_expiration("o1")).expires_at == later(clock, 60)

    await on[orders_pb2.OrderCancelled](orders_pb2.OrderCancelled(id="o1"), delivery("x"))
    await on[payments_pb2.ChargeCreated](
        payments_pb2.ChargeCreated(id="p1", order_id="o2"), delivery("x")
    )
    for order_id in ("o1", "o2"):
        with pytest.raises(NotFound):
            await handlers.get_expiration(order_id)


async def test_an_order_created_without_expiry_is_dead_lettered_not_fired(handlers):
    on = event_handlers(handlers, on_scheduled=lambda: None)
    with pytest.raises(PoisonMessage):
        await on[orders_pb2.OrderCreated](orders_pb2.OrderCreated(id="o1"), delivery("x"))
    with pytest.raises(NotFound):
        await handlers.get_expiration("o1")


@contextlib.asynccontextmanager
async def running(loop: FireLoop):
    task = asyncio.create_task(loop.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_fire_loop_looks_again_when_woken(handlers, publisher, clock):
    # An hour between looks: only the wake-up can make it fire within the test.
    loop = FireLoop(handlers, poll_seconds=3600)
    asleep = asyncio.Event()
    plan_wait = handlers.seconds_until_due

    async def seconds_until_due(at_most: float) -> float:
        delay = await plan_wait(at_most)
        asleep.set()
        return delay

    handlers.seconds_until_due = seconds_until_due  # type: ignore[method-assign]
    async with running(loop):
        await asyncio.wait_for(asleep.wait(), timeout=5)  # its first look found nothing
        await handlers.schedule_expiry("o1", clock.now())
        loop.wake()
        await asyncio.wait_for(publisher.arrived.wait(), timeout=5)
    assert publisher.order_ids() == ["o1"]


async def test_the_fire_loop_outlives_a_broker_outage(handlers, clock, caplog):
    flaky = FakePublisher(failures=3)
    handlers.publish = flaky.publish
    await handlers.schedule_expiry("o1", clock.now())
    with caplog.at_level(logging.WARNING, logger="svc_expiration.entrypoints.fire_loop"):
        async with running(FireLoop(handlers, poll_seconds=0.01)) as task:
            await asyncio.wait_for(flaky.arrived.wait(), timeout=10)
            assert not task.done()
    assert flaky.calls == 4 and flaky.order_ids() == ["o1"]
    assert [r.getMessage() for r in caplog.records].count(
        "could not fire due expiries, will retry"
    ) == 3


async def test_the_fire_loop_stops_when_cancelled_in_the_middle_of_a_redis_call(handlers):
    # A short poll keeps it talking to Redis all the time, so cancels land mid-command.
    for attempt in range(30):
        task = asyncio.create_task(FireLoop(handlers, poll_seconds=0.0001).run())
        await asyncio.sleep(0.001 * (attempt % 10))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
