"""Tickets stored before listings of several seats (issue 20) keep working after the upgrade, on
the real SecantusDB: a free one is listed for sale, a held one stays held by its order, which
releases it as any other."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from common.bus import Delivery
from common.clock import SystemClock
from common.mongo import database_name, mongo_client
from svc_tickets.adapters.repository import ensure_indexes
from svc_tickets.adapters.unit_of_work import MongoTicketsUnitOfWork
from svc_tickets.domain.model import TicketState
from svc_tickets.service_layer.handlers import TicketHandlers
from ticketing.events.v1 import orders_pb2 as order_events

pytestmark = pytest.mark.integration


def legacy(ticket_id: str, order_id: str | None, minutes: int) -> dict:
    """A ticket as the tickets service stored it before issue 20."""
    return {
        "_id": ticket_id,
        "title": "Concert",
        "price": "20.00",
        "user_id": "seller",
        "version": 1 if order_id else 0,
        "order_id": order_id,
        "created_at": datetime(2026, 11, 1, 20, minutes, tzinfo=UTC),
        "currency_code": "USD",
        "withdrawn": False,
    }


async def test_tickets_stored_before_listings_are_listed_held_and_released_as_before(
    mongo_url, namespace
):
    client = mongo_client(mongo_url)
    db = client[database_name(namespace, "tickets")]
    await db.tickets.insert_many([legacy("free", None, 1), legacy("held", "o-1", 2)])
    await ensure_indexes(db)
    await ensure_indexes(db)  # as every start does: idempotent
    handlers = TicketHandlers(
        uow=lambda: MongoTicketsUnitOfWork(client, db, "tickets"), clock=SystemClock()
    )
    try:
        for_sale = await handlers.list_tickets(20, "", include_reserved=False)
        assert [t.id for t in for_sale.items] == ["free"]
        everything = await handlers.list_tickets(20, "", include_reserved=True)
        assert [t.id for t in everything.items] == ["held", "free"]
        held = await handlers.get_ticket("held")
        assert (held.state, held.order_id, held.available) == (TicketState.HELD, "o-1", 0)
        cancelled = order_events.OrderCancelled(
            id="o-1", version=1, ticket=order_events.OrderCancelled.Ticket(id="held")
        )
        delivery = Delivery(str(uuid.uuid4()), "OrderCancelled", "order.cancelled", 1, None)
        await handlers.on_order_cancelled(cancelled, delivery)
        released = await handlers.get_ticket("held")
        assert (released.state, released.available, released.version) == (
            TicketState.FOR_SALE,
            1,
            2,
        )
        stored = await db.tickets.find_one({"_id": "held"})
        assert "order_id" not in stored and stored["available"] == 1
        for_sale = await handlers.list_tickets(20, "", include_reserved=False)
        assert [t.id for t in for_sale.items] == ["held", "free"]
    finally:
        await client.close()
