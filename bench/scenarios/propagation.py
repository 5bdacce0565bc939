"""Event propagation, TicketCreated -> orders' copy: from the moment CreateTicket answered (the
ticket and its event are committed) to the moment the orders service's copy of the ticket, which
only the event writes, is in its database: the relay's publish, the broker, orders' consumer and
its commit.

A sample is taken by reading orders' database every 2 ms; the resolution is one read plus 2 ms.
(`createOrder` itself no longer waits for the event: a ticket orders has no copy of is read
through from tickets, so "orderable" is immediate and would not measure the event.) Each sample
then orders the ticket and cancels the order, so the purchase path is exercised too.

After idle: only the first event after a quiet period meets the idle connections (the next ones
find them re-established by it), so each idle sample costs one whole idle wait; `--idle-rounds`
takes more of them. ERROR lines the stack logs during the scenario count as errors: an event
that needed a reconnect and a retry to go out is not the target, however fast it was.
"""

from __future__ import annotations

import asyncio
import time

import grpc
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from bench.client import Market, order_when_orderable
from bench.report import Latency, Row
from bench.scenarios.base import SINGLE, Context, Scenario
from common.mongo import database_name, mongo_client

WARM = "propagation: warm"
IDLE = "propagation: after idle"
TARGET_P99_MS = 50.0
SPACING_SECONDS = 0.25


COPY_TIMEOUT_SECONDS = 30.0


async def _copy_arrived(copies: AsyncCollection, ticket_id: str) -> float | None:
    """When orders' copy of the ticket was first seen (monotonic), or None after the timeout."""
    deadline = time.monotonic() + COPY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if await copies.find_one({"_id": ticket_id}, projection={"_id": 1}) is not None:
            return time.monotonic()
        await asyncio.sleep(0.002)
    return None


async def sample(
    market: Market, copies: AsyncCollection, seller: str, buyer: str
) -> tuple[float | None, list[str]]:
    try:
        ticket_id = await market.create_ticket(seller)
    except grpc.aio.AioRpcError as exc:
        return None, [f"create ticket: {exc.code().name}: {exc.details()}"]
    committed = time.monotonic()
    arrived = await _copy_arrived(copies, ticket_id)
    if arrived is None:
        return None, [f"no copy in orders {COPY_TIMEOUT_SECONDS:.0f} s after TicketCreated"]
    outcome = await order_when_orderable(market, buyer, ticket_id, retry_every=0.002)
    if outcome.order is None:
        return None, outcome.errors
    try:
        await market.cancel_order(buyer, outcome.order.id)
    except grpc.aio.AioRpcError as exc:
        outcome.errors.append(f"cancel: {exc.code().name}")
    return (arrived - committed) * 1000, outcome.errors


def _copies(ctx: Context) -> tuple[AsyncMongoClient, AsyncCollection]:
    client = mongo_client(ctx.stack.mongo_url)
    return client, client[database_name(ctx.stack.namespace, "orders")]["tickets"]


def _row(name: str, load: str, samples: list[float], errors: int, notes: str, **kw) -> Row:
    latency = Latency.of(samples)
    return Row(
        scenario=name,
        load=load,
        latency=latency,
        errors=errors,
        target=f"p99 < {TARGET_P99_MS:.0f} ms",
        met=latency.p99 is not None and latency.p99 < TARGET_P99_MS and errors == 0,
        notes=notes,
        **kw,
    )


async def run_warm(ctx: Context) -> list[Row]:
    count = ctx.load(100, 30)
    market = Market(ctx.stack)
    seller, buyer = await market.sign_up(), await market.sign_up()
    errors_before = len(ctx.stack.error_lines())
    samples, failures = [], []
    client, copies = _copies(ctx)
    try:
        for _ in range(count):
            ms, errors = await sample(market, copies, seller, buyer)
            failures += errors
            if ms is not None:
                samples.append(ms)
            await asyncio.sleep(SPACING_SECONDS)
    finally:
        await client.close()
    logged = ctx.stack.error_lines()[errors_before:]
    notes = f"{len(failures)} client errors, {len(logged)} ERROR log lines"
    load = f"{count} sequential tickets, {SPACING_SECONDS} s apart"
    extra = {"client_errors": failures[:20], "error_log": logged[:20]}
    return [_row(WARM, load, samples, len(failures) + len(logged), notes, extra=extra)]


async def run_idle(ctx: Context) -> list[Row]:
    market = Market(ctx.stack)
    seller, buyer = await market.sign_up(), await market.sign_up()
    samples, failures, logged = [], [], []
    rounds, idle = ctx.options.idle_rounds, ctx.options.idle_seconds
    for index in range(rounds):
        ctx.say(f"propagation: idling {idle:.0f} s (round {index + 1} of {rounds})")
        await asyncio.sleep(idle)
        errors_before = len(ctx.stack.error_lines())
        client, copies = _copies(ctx)  # opened after the idle wait: only the stack idled
        try:
            ms, errors = await sample(market, copies, seller, buyer)
        finally:
            await client.close()
        await asyncio.sleep(3)  # a failed publish is retried and logged within this
        logged += ctx.stack.error_lines()[errors_before:]
        failures += errors
        if ms is not None:
            samples.append(ms)
    notes = f"{len(failures)} client errors, {len(logged)} ERROR log lines"
    load = f"{rounds} x first ticket after {idle:.0f} s idle"
    extra = {"client_errors": failures[:20], "error_log": logged[:20]}
    errors = len(failures) + len(logged)
    return [_row(IDLE, load, samples, errors, notes, baseline=WARM, extra=extra)]


WARM_SCENARIO = Scenario("propagation-warm", SINGLE, run_warm, "TicketCreated -> orders' copy")
IDLE_SCENARIO = Scenario(
    "propagation-idle", SINGLE, run_idle, "TicketCreated -> orders' copy after the idle duration"
)
