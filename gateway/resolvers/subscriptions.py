"""Subscriptions (graphql-transport-ws on /graphql): an order's and a ticket's changes as they
happen (gateway/subscriptions/streams.py says what each pushes and when it ends)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from gateway.context import Info
from gateway.subscriptions.streams import counted, order_updates, ticket_updates
from gateway.types.market import Order, Ticket


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "One of the caller's orders as it is now, then again on every change (status, "
            "payment); completes once it is COMPLETE or CANCELLED. NOT_FOUND for anyone else's; "
            "UNAUTHENTICATED when the token expires or is revoked meanwhile."
        )
    )
    async def order_updated(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Order, None]:
        async with aclosing(counted("orderUpdated", order_updates(info.context, id))) as orders:
            async for order in orders:
                yield order

    @strawberry.subscription(
        description="A ticket as it is now, then again on every change (edit, reserve, release)."
    )
    async def ticket_updated(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Ticket, None]:
        async with aclosing(counted("ticketUpdated", ticket_updates(info.context, id))) as tickets:
            async for ticket in tickets:
                yield ticket
