"""Orders expire even when the expiration service's schedule forgets them: the orders service
sweeps its own overdue orders. Real SecantusDB, RabbitMQ and Redis; services in-process."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from common.bus import Delivery
from common.clock import FrozenClock
from common.mongo import OUTBOX, database_name, mongo_client
from svc_expiration.bootstrap import bootstrap as expiration_bootstrap
from svc_expiration.config import ExpirationSettings
from svc_orders.adapters.repository import ensure_indexes
from svc_orders.adapters.unit_of_work import MongoOrdersUnitOfWork
from svc_orders.bootstrap import bootstrap as orders_bootstrap
from svc_orders.config import OrdersSettings
from svc_orders.service_layer.expiry import OrderExpiry
from svc_orders.service_layer.handlers import CreateOrder, OrderHandlers
from svc_tickets.bootstrap import bootstrap as tickets_bootstrap
from svc_tickets.config import TicketsSettings
from tests.support import servers, service_tokens
from tests.support.tap import EventTap
from tests.support.tokens import issuer_for
from tests.support.waiting import until_async as until
from tests.unit.fakes_market import AlwaysHolds
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.orders.v1 import orders_pb2, orders_pb2_grpc
from ticketing.tickets.v1 import tickets_pb2, tickets_pb2_grpc

pytestmark = pytest.mark.integration

# Long enough that the schedule is wiped before the expiration service could fire it.
HOLD_SECONDS = 5
GRACE_SECONDS = 1.0
SWEEP_SECONDS = 0.5


@pytest.fixture
async def stack(env, namespace):
    """Tickets, orders and expiration in-process, orders holding tickets for a few seconds."""
    # Tickets on a port chosen up front: orders asks it for seats.
    tickets_port = servers.free_port()
    env = {
        **env,
        "TICKETS_PORT": str(tickets_port),
        "ORDER_EXPIRATION_SECONDS": str(HOLD_SECONDS),
        "ORDER_EXPIRY_GRACE_SECONDS": str(GRACE_SECONDS),
        "ORDER_EXPIRY_SWEEP_SECONDS": str(SWEEP_SECONDS),
    }
    processes = [
        tickets_bootstrap(TicketsSettings.from_env(env)),
        orders_bootstrap(OrdersSettings.from_env(env)),
        expiration_bootstrap(ExpirationSettings.from_env(env)),
    ]
    ports = [
        await p.start("127.0.0.1", tickets_port if i == 0 else 0) for i, p in enumerate(processes)
    ]
    for process in processes:
        await process.wait_consumers_ready()
    channels = [service_tokens.channel(env, f"127.0.0.1:{port}") for port in ports[:2]]
    yield (
        tickets_pb2_grpc.TicketsServiceStub(channels[0]),
        orders_pb2_grpc.OrdersServiceStub(channels[1]),
    )
    for channel in channels:
        await channel.close()
    for process in reversed(processes):
        await process.stop()


async def test_orders_expire_when_the_expiration_schedule_was_lost(
    stack, env, namespace, amqp_url, redis_url, mongo_url
):
    tickets, orders = stack
    issuer = issuer_for(env)

    def as_user() -> tuple[tuple[str, str], ...]:
        user_id = str(uuid.uuid4())
        return (("authorization", f"Bearer {issuer.issue(user_id, f'{user_id[:8]}@x.io')[0]}"),)

    mongo = mongo_client(mongo_url)
    orders_db = mongo[database_name(namespace, "orders")]
    redis = aioredis.from_url(redis_url)
    tap = EventTap(amqp_url, namespace, ("order.cancelled", "order.expired"))
    try:
        seller = as_user()
        ticket_ids = []
        for _ in range(3):
            reply = await tickets.CreateTicket(
                tickets_pb2.CreateTicketRequest(
                    title="Concert",
                    price="20",
                    currency_code="USD",
                    idempotency_key=uuid.uuid4().hex,
                ),
                metadata=seller,
            )
            ticket_ids.append(reply.ticket.id)
        order_ids = []
        for ticket_id in ticket_ids:
            reply = await orders.CreateOrder(
                orders_pb2.CreateOrderRequest(
                    ticket_id=ticket_id, idempotency_key=uuid.uuid4().hex
                ),
                metadata=as_user(),
            )
            order_ids.append(reply.order.id)
        due_key = f"{namespace}:expiration:due"

        async def scheduled() -> list:
            return [await redis.zscore(due_key, order_id) for order_id in order_ids]

        await until(scheduled, lambda scores: all(s is not None for s in scores), 10)
        # Redis restarted without its data: the schedule is gone, nothing will fire.
        keys = [key async for key in redis.scan_iter(f"{namespace}:expiration:*")]
        await redis.delete(*keys)

        async def statuses() -> list[str]:
            return [(await orders_db.orders.find_one({"_id": o}))["status"] for o in order_ids]

        await until(
            statuses,
            lambda s: s == ["CANCELLED"] * 3,
            HOLD_SECONDS + GRACE_SECONDS + SWEEP_SECONDS + 10,
        )

        async def holders() -> list[str]:
            get = tickets.GetTicket
            replies = [await get(tickets_pb2.GetTicketRequest(id=t)) for t in ticket_ids]
            return [reply.ticket.order_id for reply in replies]

        await until(holders, lambda held: held == ["", "", ""], 10)  # tickets for sale again

        cancelled = [
            json.loads(doc["body"])
            async for doc in orders_db[OUTBOX].find({"type": "ticketing.events.v1.OrderCancelled"})
        ]
        assert sorted(c["id"] for c in cancelled) == sorted(order_ids)  # once each
        assert {c["reason"] for c in cancelled} == {"EXPIRED"}
        # The tickets service heard of every cancellation, and the lost schedule fired nothing.
        seen = await asyncio.to_thread(tap.wait_for, 3, 10, "order.cancelled")
        assert sorted(json.loads(s.body)["id"] for s in seen) == sorted(order_ids)
        assert [s for s in tap.drain() if s.routing_key == "order.expired"] == []
    finally:
        tap.close()
        await redis.aclose()
        await mongo.close()


# -- several sweeps at once -----------------------------------------------------------------


@pytest.fixture
async def orders_db(mongo_url, namespace):
    client = mongo_client(mongo_url)
    db = client[database_name(namespace, "orders")]
    await ensure_indexes(db)
    yield client, db
    await client.close()


async def test_concurrent_sweeps_and_a_late_order_expired_cancel_each_order_once(orders_db):
    client, db = orders_db
    clock = FrozenClock()

    def uow() -> MongoOrdersUnitOfWork:
        return MongoOrdersUnitOfWork(client, db, "orders", clock)

    handlers = OrderHandlers(uow, clock, hold_for=timedelta(minutes=15), tickets=AlwaysHolds())

    async def list_ticket() -> str:
        return str(uuid.uuid4())

    overdue = []
    for _ in range(20):
        placed = await handlers.create_order(
            CreateOrder(str(uuid.uuid4()), await list_ticket(), "k1")
        )
        overdue.append(placed.order.id)
    clock.advance(10)
    # Due 10 s later than the others: when they are 2.5 s overdue it is not yet past the grace.
    within_grace = (
        await handlers.create_order(CreateOrder("late-buyer", await list_ticket(), "k2"))
    ).order
    clock.advance(15 * 60 - 10 + 2.5)

    sweeps = [OrderExpiry(uow, clock, grace=timedelta(seconds=2)) for _ in range(3)]
    expired = await asyncio.gather(*(sweep.expire_overdue() for sweep in sweeps))
    assert sum(expired) == len(overdue)
    # OrderExpired arriving after the sweep changes nothing.
    late = handlers.event_handlers[order_events.OrderExpired]
    for order_id in overdue:
        delivery = Delivery(str(uuid.uuid4()), "OrderExpired", "order.expired", 1, None)
        await late(order_events.OrderExpired(order_id=order_id), delivery)

    cancelled = [
        json.loads(doc["body"])
        async for doc in db[OUTBOX].find({"type": "ticketing.events.v1.OrderCancelled"})
    ]
    assert sorted(c["id"] for c in cancelled) == sorted(overdue)
    assert {(c["reason"], c["version"]) for c in cancelled} == {("EXPIRED", 1)}
    docs = {doc["_id"]: doc async for doc in db.orders.find()}
    assert {docs[o]["status"] for o in overdue} == {"CANCELLED"}
    assert docs[within_grace.id]["status"] == "CREATED"
    # Placed orders: their cancellation is for every consumer (payments, expiration), not only
    # the seats' holder.
    assert not any(c.get("neverPlaced") for c in cancelled)
