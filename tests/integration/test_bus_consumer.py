"""Consumers under real concurrency, long handlers, shutdown and a dropped connection, against
the real RabbitMQ (and SecantusDB for the orders service's handlers)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from common import bus
from common.clock import SystemClock
from common.mongo import database_name, mongo_client
from svc_orders.adapters.unit_of_work import MongoOrdersUnitOfWork
from svc_orders.service_layer.handlers import OrderHandlers
from tests.support import servers
from tests.support.bus_probe import (
    InFlight,
    consumer,
    depth,
    eventually,
    publish_event,
    user_created,
)
from tests.unit.fakes_market import FakeTicketsService
from ticketing.events.v1 import tickets_pb2, users_pb2

pytestmark = pytest.mark.integration


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
        tickets=FakeTicketsService(),
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
