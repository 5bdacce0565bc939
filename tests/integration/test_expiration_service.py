"""The expiration service in-process, with real RabbitMQ and Redis: orders scheduled by
OrderCreated events fire OrderExpired on time, once, across restarts, replicas and outages."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import redis.asyncio as aioredis
from google.protobuf.message import Message

from common import events
from common.protos import from_timestamp, timestamp
from common.service import ServiceProcess
from common.service_identity import CLI
from svc_expiration.adapters.redis_schedule import Scheduler
from svc_expiration.bootstrap import bootstrap
from svc_expiration.config import ExpirationSettings
from svc_expiration.domain.model import expired_event_id
from tests.support import service_tokens
from tests.support.servers import TcpProxy, amqp_url_via
from tests.support.tap import EventTap, Seen, publish_raw
from ticketing.events.v1 import orders_pb2, payments_pb2
from ticketing.expiration.v1 import expiration_pb2, expiration_pb2_grpc

pytestmark = pytest.mark.integration


@dataclass
class Fired:
    order_id: str
    at: float  # time.time() when the tap saw it
    seen: Seen


class ExpiredTap:
    """Watches `order.expired` closely (every 5 ms) and notes when each event was seen."""

    def __init__(self, amqp_url: str, namespace: str) -> None:
        self.tap = EventTap(amqp_url, namespace, ("order.expired",))
        self.fired: list[Fired] = []

    def _watch(self, deadline: float, done: Callable[[list[Fired]], bool]) -> None:
        while True:
            for seen in self.tap.drain()[len(self.fired) :]:
                order_id = json.loads(seen.body)["orderId"]
                self.fired.append(Fired(order_id, time.time(), seen))
            if done(self.fired) or time.time() > deadline:
                return
            self.tap.connection.sleep(0.005)

    async def watch(
        self, seconds: float, until: Callable[[list[Fired]], bool] = lambda fired: False
    ) -> list[Fired]:
        """Watches for `seconds`, or less once `until(fired)` holds."""
        await asyncio.to_thread(self._watch, time.time() + seconds, until)
        return self.fired

    async def wait_for(self, *order_ids: str, seconds: float = 10) -> list[Fired]:
        await self.watch(seconds, lambda fired: set(order_ids) <= {f.order_id for f in fired})
        return self.fired

    def of(self, order_id: str) -> list[Fired]:
        return [f for f in self.fired if f.order_id == order_id]


@pytest.fixture
def expired(amqp_url, namespace):
    tap = ExpiredTap(amqp_url, namespace)
    yield tap
    tap.tap.close()


@pytest.fixture
async def services(env):
    """Starts expiration processes (`await services.start(**env_overrides)`), stops them all."""
    running = Services(env)
    yield running
    for process in list(running.processes):
        await running.stop(process)


class Services:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.processes: list[ServiceProcess] = []

    async def start(self, **overrides: str) -> ServiceProcess:
        process = bootstrap(ExpirationSettings.from_env({**self.env, **overrides}))
        await process.start("127.0.0.1", 0)
        self.processes.append(process)
        await process.wait_consumers_ready()
        return process

    async def stop(self, process: ServiceProcess) -> None:
        self.processes.remove(process)
        await process.stop()


async def publish(env: dict[str, str], event: Message) -> None:
    await asyncio.to_thread(
        publish_raw,
        env["AMQP_URL"],
        env["TICKETING_NAMESPACE"],
        events.routing_key(event),
        events.encode(event),
        str(uuid.uuid4()),
        events.type_name(event),
    )


def order_created(order_id: str, due: datetime) -> orders_pb2.OrderCreated:
    return orders_pb2.OrderCreated(
        id=order_id,
        version=0,
        user_id="buyer",
        expires_at=timestamp(due),
        ticket=orders_pb2.OrderCreated.Ticket(id=f"ticket-{order_id}", price="20.00"),
    )


def in_seconds(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def new_id() -> str:
    return str(uuid.uuid4())


async def get_expiration(
    process: ServiceProcess, order_id: str
) -> expiration_pb2.GetExpirationResponse:
    async with service_tokens.channel(
        process.infra.settings, f"127.0.0.1:{process.port}", CLI
    ) as channel:
        stub = expiration_pb2_grpc.ExpirationServiceStub(channel)
        return await stub.GetExpiration(
            expiration_pb2.GetExpirationRequest(order_id=order_id), timeout=5
        )


async def status_of(process: ServiceProcess, order_id: str) -> grpc.StatusCode:
    try:
        await get_expiration(process, order_id)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


async def until_scheduled(process: ServiceProcess, order_id: str, seconds: float = 5) -> None:
    """Until the service has consumed the order's OrderCreated."""
    deadline = time.monotonic() + seconds
    while await status_of(process, order_id) is not grpc.StatusCode.OK:
        assert time.monotonic() < deadline, f"{order_id} was never scheduled"
        await asyncio.sleep(0.02)


# -- firing on time ---------------------------------------------------------------------------


async def test_an_order_expires_on_time_and_is_visible_until_then(services, env, expired):
    process = await services.start()
    order_id, due = new_id(), in_seconds(1.5)
    await publish(env, order_created(order_id, due))
    await until_scheduled(process, order_id)

    shown = await get_expiration(process, order_id)
    assert shown.order_id == order_id
    assert shown.state == expiration_pb2.EXPIRATION_STATE_SCHEDULED
    assert timedelta(0) <= from_timestamp(shown.expires_at) - due < timedelta(milliseconds=1)
    assert not shown.HasField("lease_until")

    await asyncio.sleep(max(0.0, due.timestamp() - 0.1 - time.time()))
    assert await status_of(process, order_id) is grpc.StatusCode.OK  # not fired early
    [fired] = await expired.wait_for(order_id)

    # Never early; how late is measured in bench/ (the expiry scenario), not asserted here.
    assert fired.at >= due.timestamp()
    assert events.decode(fired.seen.properties.type, fired.seen.body) == orders_pb2.OrderExpired(
        order_id=order_id
    )
    assert fired.seen.properties.message_id == expired_event_id(order_id)
    assert fired.seen.properties.app_id == "expiration"
    assert await status_of(process, order_id) is grpc.StatusCode.NOT_FOUND


async def test_get_expiration_errors(services):
    process = await services.start()
    assert await status_of(process, "no-such-order") is grpc.StatusCode.NOT_FOUND
    assert await status_of(process, "") is grpc.StatusCode.INVALID_ARGUMENT


async def test_a_restarted_service_fires_what_fell_due_while_it_was_down(services, env, expired):
    first = await services.start()
    order_id, due = new_id(), in_seconds(1)
    await publish(env, order_created(order_id, due))
    await until_scheduled(first, order_id)
    await services.stop(first)

    await expired.watch(due.timestamp() + 0.5 - time.time())
    assert expired.fired == []  # nobody was there to fire it

    await services.start()
    [fired] = await expired.wait_for(order_id)
    assert fired.seen.properties.message_id == expired_event_id(order_id)


async def test_two_replicas_fire_each_order_exactly_once(services, env, expired):
    replicas = [await services.start(), await services.start()]
    base = in_seconds(1.5)
    # Half fall due at the same millisecond, so both replicas go for them at once.
    orders = {new_id(): base + timedelta(milliseconds=25 * (i % 2) * i) for i in range(20)}
    for order_id, due in orders.items():
        await publish(env, order_created(order_id, due))
    await expired.wait_for(*orders)
    # A sentinel due after all of them: once it has fired, both replicas have ticked past every
    # order's due time, so a second publication of any of them would be in the tap before it.
    sentinel = new_id()
    await publish(env, order_created(sentinel, max(orders.values()) + timedelta(milliseconds=300)))
    await expired.wait_for(sentinel)

    for order_id, due in orders.items():
        [fired] = expired.of(order_id)
        assert fired.at >= due.timestamp()
    assert len(expired.fired) == len(orders) + 1
    for replica in replicas:
        assert await status_of(replica, next(iter(orders))) is grpc.StatusCode.NOT_FOUND


# -- orders that must not fire (again) ------------------------------------------------------


async def test_cancelled_and_paid_orders_do_not_fire(services, env, expired):
    process = await services.start()
    cancelled, paid, sentinel = new_id(), new_id(), new_id()
    due = in_seconds(1)
    for order_id in (cancelled, paid):
        await publish(env, order_created(order_id, due))
    await publish(env, orders_pb2.OrderCancelled(id=cancelled, reason="CANCELLED_BY_USER"))
    await publish(env, payments_pb2.ChargeCreated(id=new_id(), order_id=paid, amount=2000))
    # Events are consumed in order: once the sentinel is scheduled the others were handled.
    await publish(env, order_created(sentinel, due))
    await until_scheduled(process, sentinel)
    for order_id in (cancelled, paid):
        assert await status_of(process, order_id) is grpc.StatusCode.NOT_FOUND

    # A second sentinel due after the first: the others would have fired before it.
    later = new_id()
    await publish(env, order_created(later, due + timedelta(milliseconds=300)))
    await expired.wait_for(sentinel, later)
    assert [f.order_id for f in expired.fired] == [sentinel, later]


async def test_a_duplicate_order_created_does_not_fire_twice(services, env, expired):
    process = await services.start()
    order_id, due = new_id(), in_seconds(1)
    await publish(env, order_created(order_id, due))
    await publish(env, order_created(order_id, due + timedelta(seconds=1)))  # republished
    await expired.wait_for(order_id)

    # Redelivered after it fired (e.g. replayed from the dead queue): it stays fired.
    await publish(env, order_created(order_id, due))
    sentinel = new_id()
    await publish(env, order_created(sentinel, in_seconds(0.3)))
    await expired.wait_for(sentinel)
    assert len(expired.of(order_id)) == 1
    assert await status_of(process, order_id) is grpc.StatusCode.NOT_FOUND


# -- failures ---------------------------------------------------------------------------------


async def test_an_order_claimed_by_a_replica_that_died_is_fired_after_its_lease(
    services, env, expired, redis_url, namespace
):
    process = await services.start(EXPIRATION_LEASE_SECONDS="1")
    order_id = new_id()
    client = aioredis.from_url(redis_url)
    try:
        dead_replica = Scheduler(client, namespace)
        due = in_seconds(2)
        await dead_replica.schedule(order_id, due)
        # A replica whose clock runs ahead claims it before the live one could, and dies.
        lease_until = in_seconds(1)
        assert await dead_replica.claim_due(due + timedelta(milliseconds=1), lease_until) == [
            order_id
        ]
    finally:
        await client.aclose()

    shown = await get_expiration(process, order_id)
    assert shown.state == expiration_pb2.EXPIRATION_STATE_FIRING
    assert abs(from_timestamp(shown.lease_until) - lease_until) < timedelta(milliseconds=1)

    [fired] = await expired.wait_for(order_id)
    assert fired.at >= lease_until.timestamp()  # not before the dead replica's lease ran out


async def test_orders_due_during_a_broker_outage_fire_once_it_is_back(
    services, env, expired, amqp_url, caplog
):
    broker_port = int(amqp_url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = TcpProxy(broker_port)
    proxy.start()
    try:
        process = await services.start(AMQP_URL=amqp_url_via(proxy.port))
        order_id, due = new_id(), in_seconds(0.5)
        await publish(env, order_created(order_id, due))  # straight to the broker
        await until_scheduled(process, order_id)

        proxy.stop()
        with caplog.at_level(logging.WARNING, logger="svc_expiration"):
            # It fell due and the service tried to fire it (the sentinel here is its own warning).
            await expired.watch(
                15, lambda _: "could not fire due expiries, will retry" in caplog.messages
            )
        assert "could not fire due expiries, will retry" in caplog.messages
        assert expired.fired == []
        assert await status_of(process, order_id) is grpc.StatusCode.OK  # kept, not lost

        proxy.start()
        await expired.wait_for(order_id, seconds=15)
        sentinel = new_id()
        await publish(env, order_created(sentinel, in_seconds(0.3)))
        await expired.wait_for(sentinel, seconds=15)
        assert [f.order_id for f in expired.fired] == [order_id, sentinel]
    finally:
        proxy.stop()
