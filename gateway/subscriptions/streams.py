"""What a subscriber receives: the object as it is now, then once per change.

Both streams register their watch before they read, so a change made between a client's query
and its subscription, or during the first read, is never missed: it is in the first message or
wakes the stream for the next one. Each pushes only a version it has not pushed (events may
come twice, or late, or a resync may find nothing new).

- `order_updates`: the caller's own order (GetOrder with the subscriber's token: another's,
  or an unknown id, is NOT_FOUND as for the `order` query); read again from orders on each of
  its events (orders stays the one authority; the read brings the ticket and the payment as
  they are). The token is checked (signature, expiry, revocation) before every read, when a
  revocation that may concern it is announced (gateway/subscriptions/revocations.py), and at
  least every SUBSCRIPTION_TOKEN_RECHECK_SECONDS while nothing happens (the fallback); the
  stream ends with UNAUTHENTICATED once it expires or is revoked. It completes after the order
  reaches COMPLETE or CANCELLED (an expired order is CANCELLED): nothing changes after those.
- `ticket_updates`: public; read from tickets first, then built from each TicketUpdated, which
  carries every field of a Ticket at its version (after a resync, read from tickets again).
  A ticket has no last state (sold stays reserved): the stream runs until the client ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import TypeVar

from common.errors import AppError, Internal, Unauthenticated
from common.jwt import Claims
from common.metrics.series import SUBSCRIPTION_MESSAGES, SUBSCRIPTIONS_OPEN
from common.outages import OUTAGES
from gateway.context import Context
from gateway.subscriptions.hub import Hub, Topic, Watch
from gateway.types.orders import Order, OrderStatus
from gateway.types.tickets import Ticket
from ticketing.events.v1 import tickets_pb2 as ticket_events
from ticketing.orders.v1 import orders_pb2
from ticketing.tickets.v1 import tickets_pb2

log = logging.getLogger(__name__)

T = TypeVar("T")

FINAL = frozenset({OrderStatus.COMPLETE, OrderStatus.CANCELLED})


def _hub(ctx: Context) -> Hub:
    if ctx.hub is None:
        raise Internal("subscriptions are not served here")
    return ctx.hub


async def _session(ctx: Context) -> Claims:
    """The subscriber's token checked now, like any request's."""
    if not ctx.token:
        raise Unauthenticated("Sign in first")
    return await ctx.accounts.verifier.verify(ctx.token)


async def _wait(watch: Watch, ctx: Context, claims: Claims) -> None:
    """Until the watch is woken; meanwhile the token is checked every recheck period, and the
    wait ends with UNAUTHENTICATED the moment it expires."""
    while not watch.changed.is_set():
        until_expiry = claims.exp - time.time()
        if until_expiry <= 0:
            raise Unauthenticated("Token expired")
        try:
            async with asyncio.timeout(min(until_expiry, ctx.token_recheck_seconds)):
                await watch.changed.wait()
        except TimeoutError:
            claims = await _session(ctx)


async def order_updates(ctx: Context, order_id: str) -> AsyncIterator[Order]:
    claims = await _session(ctx)
    hub = _hub(ctx)
    async with hub.watch(Topic.ORDER, order_id) as watch:
        with hub.sessions.holding(claims, watch.changed.set):  # a revocation wakes it too
            order = await _read_order(ctx, order_id)
            yield order
            pushed = order.version
            while order.status not in FINAL:
                await _wait(watch, ctx, claims)
                watch.take()  # the event says only that it changed: the order is read again
                claims = await _session(ctx)
                order = await _read_order(ctx, order_id)
                if order.version > pushed:
                    pushed = order.version
                    yield order


async def _read_order(ctx: Context, order_id: str) -> Order:
    reply = await ctx.clients.call(
        ctx.clients.orders.GetOrder, orders_pb2.GetOrderRequest(id=order_id), ctx.token
    )
    return Order.from_proto(reply.order)


async def ticket_updates(ctx: Context, ticket_id: str) -> AsyncIterator[Ticket]:
    async with _hub(ctx).watch(Topic.TICKET, ticket_id) as watch:
        ticket = await _read_ticket(ctx, ticket_id)
        yield Ticket.from_proto(ticket)
        pushed = ticket.version
        while True:
            await watch.changed.wait()
            event, lost = watch.take()
            if lost or not isinstance(event, ticket_events.TicketUpdated):
                ticket = await _read_ticket(ctx, ticket_id)
            else:
                ticket = _from_event(event, created=ticket.create_time)
            if ticket.version > pushed:
                pushed = ticket.version
                yield Ticket.from_proto(ticket)


async def _read_ticket(ctx: Context, ticket_id: str) -> tickets_pb2.Ticket:
    """From tickets itself, not the gateway's cache: an invalidation may still be on its way."""
    reply = await ctx.clients.call(
        ctx.clients.tickets.GetTicket, tickets_pb2.GetTicketRequest(id=ticket_id)
    )
    return reply.ticket


def _from_event(event: ticket_events.TicketUpdated, created: object) -> tickets_pb2.Ticket:
    ticket = tickets_pb2.Ticket(
        id=event.id,
        version=event.version,
        title=event.title,
        price=event.price,
        user_id=event.user_id,
        order_id=event.order_id,
        currency_code=event.currency_code,
        withdrawn=event.withdrawn,
        quantity=event.quantity,
        available=event.available,
        event_id=event.event_id,
        state=event.state,
    )
    ticket.create_time.CopyFrom(created)  # type: ignore[arg-type]
    return ticket


async def counted(field: str, stream: AsyncIterator[T]) -> AsyncIterator[T]:
    """The stream as a subscription serves it: counted open and per message, and a failure
    that is not the client's or a dependency's logged and shown as INTERNAL (a GraphQL error
    raised from a stream has no path, and would otherwise pass for a bad request)."""
    SUBSCRIPTIONS_OPEN.labels(field).inc()
    try:
        async with contextlib.aclosing(stream):  # its watch ends with the subscription
            async for item in stream:
                SUBSCRIPTION_MESSAGES.labels(field).inc()
                yield item
    except (AppError, *OUTAGES):
        raise
    except Exception as exc:
        log.exception("subscription failed", extra={"field": field})
        raise Internal("subscription failed") from exc
    finally:
        SUBSCRIPTIONS_OPEN.labels(field).dec()
