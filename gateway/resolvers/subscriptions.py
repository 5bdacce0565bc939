"""Subscriptions (graphql-transport-ws on /graphql): an order's and a ticket's changes as they
happen (gateway/subscriptions/streams.py says what each pushes and when it ends)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated

import strawberry

from gateway import global_ids
from gateway.context import Info
from gateway.subscriptions.streams import counted, order_updates, ticket_updates
from gateway.types.orders import Order
from gateway.types.tickets import Ticket


@strawberry.type(
    description="Changes pushed as they happen, over graphql-transport-ws on /graphql. Each "
    "sends the object as it is now first, then once per change."
)
class Subscription:
    @strawberry.subscription(
        description=(
            "One of the caller's orders as it is now, then again on every change (status, "
            "payment); completes once it is COMPLETE or CANCELLED. NOT_FOUND for anyone else's, "
            "an unknown one or an id that does not decode; UNAUTHENTICATED when the token "
            "expires or is revoked meanwhile."
        )
    )
    async def order_updated(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The order's id.")],
    ) -> AsyncGenerator[Order | None, None]:
        raw_id = global_ids.decode(id, "Order")
        stream = counted("orderUpdated", order_updates(info.context, raw_id))
        async with aclosing(stream) as orders:
            async for order in orders:
                yield order

    @strawberry.subscription(
        description="A ticket as it is now, then again on every change (edit, hold, release, "
        "withdrawal); runs until the client ends it. NOT_FOUND for an unknown ticket or an id "
        "that does not decode."
    )
    async def ticket_updated(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ticket's id.")],
    ) -> AsyncGenerator[Ticket | None, None]:
        raw_id = global_ids.decode(id, "Ticket")
        stream = counted("ticketUpdated", ticket_updates(info.context, raw_id))
        async with aclosing(stream) as tickets:
            async for ticket in tickets:
                yield ticket
