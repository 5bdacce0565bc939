"""Consumers under real concurrency, long handlers, shutdown and a dropped connection, against
the real RabbitMQ (and SecantusDB for the tickets service's handlers)."""

from __future__ import annotations

import asyncio

import pytest

from common import bus
from common.clock import SystemClock
from common.mongo import database_name, mongo_client
from svc_tickets.adapters.repository import ensure_indexes
from svc_tickets.adapters.unit_of_work import MongoTicketsUnitOfWork
from svc_tickets.service_layer.handlers import CreateTicket, HoldSeats, TicketHandlers
from tests.support import servers
from tests.support.bus_probe import (
    InFlight,
    consumer,
    depth,
    eventually,
    publish_event,
    user_created,
)
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.events.v1 import users_pb2
from ticketing.orders.v1 import orders_pb2

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


async def test_releases_and_sales_of_one_listing_handled_concurrently_all_land(
    namespace, amqp_url, mongo_url
):
    """The tickets service's order consumers under real concurrency: twenty orders hold a seat
    each of one listing; ten are cancelled and ten paid, their events handled 32 at a time, all
    writing the one listing document. Every write conflict is run again: ten seats end for sale,
    ten sold, none lost and nothing dead-lettered."""
    mongo = mongo_client(mongo_url)
    db = mongo[database_name(namespace, "tickets")]
    await ensure_indexes(db)
    handlers = TicketHandlers(
        uow=lambda: MongoTicketsUnitOfWork(mongo, db, "tickets"), clock=SystemClock()
    )
    listing = await handlers.create_ticket(
        CreateTicket("seller", "Concert", "10", "USD", "k1", quantity=20)
    )
    order_ids = [f"o{i}" for i in range(20)]
    for order_id in order_ids:
        await handlers.hold_seats(HoldSeats(listing.id, 1, order_id, "buyer"))
    in_flight = InFlight()

    def counted(handler):
        async def run(event, delivery):
            with in_flight:
                await handler(event, delivery)

        return run

    tickets = consumer(
        amqp_url,
        namespace,
        "tickets",
        {
            order_events.OrderCancelled: counted(handlers.on_order_cancelled),
            order_events.OrderUpdated: counted(handlers.on_order_updated),
        },
        prefetch=32,
    )
    tickets.start()
    try:
        await tickets.wait_ready()
        for i, order_id in enumerate(order_ids):
            if i % 2:
                event = order_events.OrderUpdated(
                    id=order_id, version=1, status=orders_pb2.ORDER_STATUS_COMPLETE
                )
            else:
                event = order_events.OrderCancelled(
                    id=order_id, version=1, ticket=order_events.OrderCancelled.Ticket(id="x")
                )
            publish_event(amqp_url, namespace, event)

        async def all_landed():
            doc = await db.tickets.find_one({"_id": listing.id})
            return len(doc["holds"]) == 10 and all(h["sold"] for h in doc["holds"])

        await eventually(all_landed, timeout=60)
    finally:
        await tickets.stop()
    doc = await db.tickets.find_one({"_id": listing.id})
    await mongo.close()
    assert sorted(h["order_id"] for h in doc["holds"]) == sorted(order_ids[1::2])
    assert doc["available"] == 10
    assert in_flight.most > 1  # really concurrent
    assert await depth(amqp_url, bus.dead_queue_name(namespace, "tickets")) == 0


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
