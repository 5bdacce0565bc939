"""Tickets stored before listings of several seats (issue 20), on the real SecantusDB:
`ticketing migrate` (the real command, in a process of its own, against an orders service on a
free port) rewrites them as one-seat listings once and settles the holds by what orders says of
their orders; a second run changes nothing. The service never rewrites them as it starts, and
reads one it meets before the migration as a one-seat listing, without writing it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from common.bus import Delivery
from common.clock import SystemClock
from common.mongo import database_name, mongo_client
from common.service import ServiceProcess
from svc_orders.adapters.repository import ORDERS
from svc_orders.bootstrap import bootstrap as orders_bootstrap
from svc_orders.config import OrdersSettings
from svc_orders.domain.model import Order, OrderStatus
from svc_tickets.adapters.unit_of_work import MongoTicketsUnitOfWork
from svc_tickets.bootstrap import bootstrap as tickets_bootstrap
from svc_tickets.config import TicketsSettings
from svc_tickets.domain.model import TicketState
from svc_tickets.service_layer.handlers import TicketHandlers
from tests.support import servers, service_tokens
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.tickets.v1 import tickets_pb2, tickets_pb2_grpc

pytestmark = pytest.mark.integration

CREATED_AT = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


def legacy(ticket_id: str, order_id: str | None, minutes: int) -> dict:
    """A ticket as the tickets service stored it before issue 20."""
    return {
        "_id": ticket_id,
        "title": "Concert",
        "price": "20.00",
        "user_id": "seller",
        "version": 1 if order_id else 0,
        "order_id": order_id,
        "created_at": CREATED_AT + timedelta(minutes=minutes),
        "currency_code": "USD",
        "withdrawn": False,
    }


def order(order_id: str, ticket_id: str, status: OrderStatus) -> dict:
    """An order as the orders service stored it before issue 20 (an open one not yet due: the
    expiry sweep would cancel it)."""
    placed = Order(
        order_id,
        "buyer",
        ticket_id,
        Decimal("20.00"),
        status,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        created_at=CREATED_AT,
        version=1,
    )
    return ORDERS.to_doc(placed)


@pytest.fixture
async def orders(env) -> AsyncIterator[ServiceProcess]:
    process = orders_bootstrap(OrdersSettings.from_env(env))
    await process.start("127.0.0.1", 0)
    yield process
    await process.stop()


def ticketing_migrate(
    env, orders_addr: str, *args: str, key_on_stdin: bool = False
) -> subprocess.CompletedProcess:
    """The command in a process of its own, signed with the `cli` key of the test's set; given
    on its standard input (SERVICE_PRIVATE_KEY_FILE=/dev/stdin) as docs/deploying.md runs it."""
    env = {**os.environ, **env, "ORDERS_ADDR": orders_addr}
    key = None
    if key_on_stdin:
        key = Path(env["SERVICE_PRIVATE_KEY_FILE"].replace("{service}", "cli")).read_text()
        env["SERVICE_PRIVATE_KEY_FILE"] = "/dev/stdin"
    return subprocess.run(
        [sys.executable, "-c", "from common.cli import main; main()", "migrate", *args],
        env=env,
        input=key,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def migrate(
    env, orders: ServiceProcess, *args: str, key_on_stdin: bool = False
) -> subprocess.CompletedProcess:
    addr = f"127.0.0.1:{orders.port}"
    done = await asyncio.to_thread(ticketing_migrate, env, addr, *args, key_on_stdin=key_on_stdin)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


async def stored(db) -> list[dict]:
    return [doc async for doc in db.tickets.find({}).sort("_id", 1)]


async def test_migrate_rewrites_legacy_tickets_sells_paid_orders_seats_and_runs_once(
    env, orders, mongo_url, namespace
):
    client = mongo_client(mongo_url)
    db = client[database_name(namespace, "tickets")]
    orders_db = client[database_name(namespace, "orders")]
    await db.tickets.insert_many(
        [
            legacy("free", None, 1),
            legacy("held", "o-open", 2),
            legacy("paid", "o-paid", 3),
            legacy("cancelled", "o-cancelled", 4),
            legacy("lost", "o-unknown", 5),
        ]
    )
    await orders_db.orders.insert_many(
        [
            order("o-open", "held", OrderStatus.AWAITING_PAYMENT),
            order("o-paid", "paid", OrderStatus.COMPLETE),
            order("o-cancelled", "cancelled", OrderStatus.CANCELLED),
        ]
    )
    handlers = TicketHandlers(
        uow=lambda: MongoTicketsUnitOfWork(client, db, "tickets"), clock=SystemClock()
    )
    try:
        before = await stored(db)
        dry = await migrate(env, orders, "--dry-run", key_on_stdin=True)
        assert dry.stdout.splitlines() == [
            "ticket cancelled: would rewrite as a one-seat listing",
            "ticket free: would rewrite as a one-seat listing",
            "ticket held: would rewrite as a one-seat listing",
            "ticket lost: would rewrite as a one-seat listing",
            "ticket paid: would rewrite as a one-seat listing",
            "ticket cancelled: would release its seats (order o-cancelled is CANCELLED)",
            "ticket lost: order o-unknown is unknown to the orders service: its hold is left as "
            "it is",
            "ticket paid: would mark its seats sold (order o-paid is COMPLETE)",
            "would change: 5 legacy tickets rewritten as one-seat listings, 1 holds of paid "
            "orders marked sold, 1 holds of cancelled orders released; left: 1 holds of open "
            "orders, 1 holds of orders unknown to the orders service",
        ]
        assert await stored(db) == before

        first = await migrate(env, orders)
        assert first.stdout.splitlines()[-1] == (
            "changed: 5 legacy tickets rewritten as one-seat listings, 1 holds of paid orders "
            "marked sold, 1 holds of cancelled orders released; left: 1 holds of open orders, "
            "1 holds of orders unknown to the orders service"
        )
        states = {
            t.id: (t.state, t.available)
            for t in await handlers.batch_get(["free", "held", "paid", "cancelled", "lost"])
        }
        assert states == {
            "free": (TicketState.FOR_SALE, 1),
            "held": (TicketState.HELD, 0),
            "paid": (TicketState.SOLD, 0),
            "cancelled": (TicketState.FOR_SALE, 1),
            "lost": (TicketState.HELD, 0),
        }
        for_sale = await handlers.list_tickets(20, "", include_reserved=False)
        assert [t.id for t in for_sale.items] == ["cancelled", "free"]
        assert all("order_id" not in doc and "holds" in doc for doc in await stored(db))
        # The seats sold and released are told as any change (the running service's relay
        # sends them); the rewrite alone changes no ticket as anyone reads it: no event.
        told = [doc async for doc in db.outbox.find({}, {"type": 1, "body": 1})]
        assert sorted(json.loads(doc["body"])["id"] for doc in told) == ["cancelled", "paid"]
        assert {doc["type"] for doc in told} == {"ticketing.events.v1.TicketUpdated"}

        # The sentinel: every document as the first run left it, so that a second run that
        # wrote anything (a new version, a field) shows.
        migrated = await stored(db)
        again = await migrate(env, orders)
        assert again.stdout.splitlines()[-1].startswith(
            "changed: 0 legacy tickets rewritten as one-seat listings, 0 holds of paid orders "
            "marked sold, 0 holds of cancelled orders released;"
        )
        assert await stored(db) == migrated

        # The open order still settles its seat by its events, as any other.
        cancelled = order_events.OrderCancelled(
            id="o-open", version=2, ticket=order_events.OrderCancelled.Ticket(id="held")
        )
        delivery = Delivery(str(uuid.uuid4()), "OrderCancelled", "order.cancelled", 1, None)
        await handlers.on_order_cancelled(cancelled, delivery)
        released = await handlers.get_ticket("held")
        assert (released.state, released.available, released.version) == (
            TicketState.FOR_SALE,
            1,
            2,
        )
    finally:
        await client.close()


async def test_migrate_changes_nothing_when_the_orders_service_cannot_be_asked(
    env, mongo_url, namespace
):
    client = mongo_client(mongo_url)
    db = client[database_name(namespace, "tickets")]
    await db.tickets.insert_many([legacy("free", None, 1), legacy("held", "o-1", 2)])
    try:
        before = await stored(db)
        nobody = f"127.0.0.1:{servers.free_port()}"
        done = await asyncio.to_thread(ticketing_migrate, env, nobody)
        assert done.returncode == 1
        assert f"ticketing migrate: the orders service at {nobody}:" in done.stderr
        assert await stored(db) == before
    finally:
        await client.close()


async def test_a_start_rewrites_nothing_and_a_legacy_ticket_reads_as_one_seat(
    env, mongo_url, namespace, caplog
):
    """The sentinel: a legacy ticket written after the migration (as if missed by it) is left
    as it is by the start (no scan, no rewrite) and by reading it; it reads as a one-seat
    listing held by its order, and the log tells the operator to run `ticketing migrate`."""
    client = mongo_client(mongo_url)
    db = client[database_name(namespace, "tickets")]
    await db.tickets.insert_one(legacy("missed", "o-1", 1))
    sentinel = await stored(db)
    process = tickets_bootstrap(TicketsSettings.from_env(env))
    caplog.set_level(logging.WARNING, logger="svc_tickets.adapters.documents")
    port = await process.start("127.0.0.1", 0)
    try:
        assert await stored(db) == sentinel
        async with service_tokens.channel(env, f"127.0.0.1:{port}") as channel:
            stub = tickets_pb2_grpc.TicketsServiceStub(channel)
            reply = await stub.GetTicket(tickets_pb2.GetTicketRequest(id="missed"))
        ticket = reply.ticket
        assert (ticket.quantity, ticket.available, ticket.order_id) == (1, 0, "o-1")
        assert ticket.state == tickets_pb2.TICKET_STATE_HELD
        assert await stored(db) == sentinel
        assert any("run `ticketing migrate`" in r.getMessage() for r in caplog.records)
    finally:
        await process.stop()
        await client.close()
