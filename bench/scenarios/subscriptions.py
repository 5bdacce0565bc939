"""Subscriptions: how soon a change reaches a subscriber (GraphQL over a WebSocket,
graphql-transport-ws), on two replicas of the stack (each a gateway and every service), the
subscribers spread over both gateways and the changes made through the other one.

Per flow: a seller's ticket (listed beforehand), watched by two `ticketUpdated` subscribers
(one on each gateway); a buyer's `createOrder` through one gateway (the ticket is held);
the buyer's `orderUpdated` subscriber on the other; then `createPayment` (the Stripe stand-in:
the order is COMPLETE) or `cancelOrder` (CANCELLED, the ticket released), every other flow,
through the gateway the order is not watched on. Each subscriber is a connection of its own.

**The delay** of a push is the moment the bench read its `next` message from the socket minus
the moment the event it reports reached the bench's probe queue (bench/probe.py: the broker
routes a message to every bound queue as the publisher hands it over, so that is the publish
time plus one loopback hop), both `time.time()` on this machine. A push is matched to its event
by kind, id and version (`order.updated` / `order.cancelled` -> `orderUpdated`, `ticket.updated`
-> `ticketUpdated`); the first message of each subscription (the state when it started) is not
a sample. Errors: failed mutations, GraphQL errors in pushes, and pushes an event should have
caused that never came (waited for up to 15 s after the last event).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.probe import EventProbe
from bench.report import Latency, Row
from bench.scenarios.base import Context, Scenario, StackShape
from bench.scenarios.ids import raw_id
from bench.stack import STANDIN

NAME = "subscriptions"
TARGET_P99_MS = 100.0
# Changes made per second (createOrder, then createPayment or cancelOrder): a steady load the
# two-replica stack keeps up with on 2 cores, so the figure is the push path, not a backlog.
CHANGES_PER_SECOND = 10
MISSING_WAIT_SECONDS = 15.0
KEYS = ("order.updated", "order.cancelled", "ticket.updated")
ORDER_UPDATED = (
    "subscription($id: ID!) { orderUpdated(id: $id) { id status version payment { status } } }"
)
TICKET_UPDATED = "subscription($id: ID!) { ticketUpdated(id: $id) { id version state } }"
USER_ERRORS = "userErrors { code field message }"
SIGN_UP = f"mutation($input: SignUpInput!) {{ signUp(input: $input) {{ token {USER_ERRORS} }} }}"
CREATE_TICKET = (
    "mutation($input: CreateTicketInput!) "
    f"{{ createTicket(input: $input) {{ ticket {{ id }} {USER_ERRORS} }} }}"
)
CREATE_ORDER = (
    "mutation($input: CreateOrderInput!) "
    f"{{ createOrder(input: $input) {{ order {{ id }} {USER_ERRORS} }} }}"
)
PAY = (
    "mutation($input: CreatePaymentInput!) "
    f"{{ createPayment(input: $input) {{ payment {{ id }} {USER_ERRORS} }} }}"
)
CANCEL = (
    "mutation($input: CancelOrderInput!) "
    f"{{ cancelOrder(input: $input) {{ order {{ id }} {USER_ERRORS} }} }}"
)
# A mutation answered UNAVAILABLE, RATE_LIMITED or not at all is sent again, identical (the same
# idempotency key), after Retry-After or 0.5, 1, 2, 4 s with jitter, at most 5 tries (IDEM-6).
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0)
RETRYABLE = {"UNAVAILABLE", "RATE_LIMITED"}

# Two replicas, one gateway process each; the limits on connections per address and user are
# off (every subscriber comes from 127.0.0.1, a few users hold many), as the rate limits are.
SHAPE = StackShape(
    replicas=2,
    env=(
        ("SUBSCRIPTION_CONNECTIONS_PER_ADDRESS", "0"),
        ("SUBSCRIPTION_CONNECTIONS_PER_USER", "0"),
    ),
    stripe=STANDIN,
)


@dataclass
class Push:
    at: float
    kind: str  # "order" or "ticket"
    id: str
    version: int


@dataclass
class Subscriber:
    """One connection with one subscription; every push after the first is kept."""

    connection: ClientConnection
    kind: str
    pushes: list[Push] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    first: asyncio.Future[dict[str, Any]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, kind: str, object_id: str, token: str | None) -> Subscriber:
        connection = await connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        params = {"authorization": f"Bearer {token}"} if token else {}
        await connection.send(json.dumps({"type": "connection_init", "payload": params}))
        ack = json.loads(await connection.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        query = ORDER_UPDATED if kind == "order" else TICKET_UPDATED
        payload = {"query": query, "variables": {"id": object_id}}
        await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        subscriber = cls(connection, kind)
        subscriber.reader = asyncio.get_running_loop().create_task(subscriber._read())
        await asyncio.wait_for(asyncio.shield(subscriber.first), 30)
        return subscriber

    async def _read(self) -> None:
        field_name = "orderUpdated" if self.kind == "order" else "ticketUpdated"
        with contextlib.suppress(Exception):
            async for text in self.connection:
                at = time.time()
                message = json.loads(text)
                if message.get("type") != "next":
                    continue
                payload = message["payload"]
                if payload.get("errors"):
                    self.errors.append(json.dumps(payload["errors"])[:300])
                    continue
                value = payload["data"][field_name]
                if not self.first.done():
                    self.first.set_result(value)
                    continue
                # Matched with events, which carry the services' own ids.
                self.pushes.append(Push(at, self.kind, raw_id(value["id"]), value["version"]))

    async def close(self) -> None:
        await self.connection.close()
        if self.reader is not None:
            await self.reader


class Gateway:
    def __init__(self, base_url: str) -> None:
        self.ws_url = base_url.replace("http://", "ws://", 1) + "/graphql"
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60)

    async def mutate(self, query: str, field_name: str, token: str | None, **input: Any) -> dict:
        """A v1 mutation's payload; a userError raises. Retried as IDEM-6 says, identical."""
        for attempt in range(len(BACKOFF_SECONDS) + 1):
            headers = {"authorization": f"Bearer {token}"} if token else {}
            wait: float | None = None
            try:
                request = {"query": query, "variables": {"input": input}}
                reply = await self.http.post("/graphql", json=request, headers=headers)
            except httpx.TransportError:
                reply = None  # no answer: the outcome is unknown, the same request is safe
            if reply is not None:
                body = reply.json()
                payload = (body.get("data") or {}).get(field_name)
                if payload is not None:
                    if payload["userErrors"]:
                        raise RuntimeError(json.dumps(payload["userErrors"])[:300])
                    return payload
                codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
                if not codes & RETRYABLE:
                    raise RuntimeError(json.dumps(body.get("errors"))[:300])
                after = reply.headers.get("retry-after", "")
                wait = float(after) if after.isdigit() else None
            if attempt == len(BACKOFF_SECONDS):
                break
            await asyncio.sleep(wait or BACKOFF_SECONDS[attempt] * random.uniform(0.75, 1.25))
        raise RuntimeError(f"{field_name}: no answer after {len(BACKOFF_SECONDS) + 1} tries")

    async def sign_up(self) -> str:
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        payload = await self.mutate(
            SIGN_UP, "signUp", None, email=email, password="bench-password-1"
        )
        return payload["token"]


async def _paced(count: int, per_second: float, step) -> list[str]:
    """Runs `step(i)` for i < count, started `per_second` a second; returns the failures."""
    started, tasks = time.monotonic(), []
    for index in range(count):
        delay = started + index / per_second - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(step(index)))
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    return [f"{type(o).__name__}: {o}"[:300] for o in outcomes if isinstance(o, BaseException)]


async def _order_when_orderable(gateway: Gateway, buyer: str, ticket_id: str) -> str:
    key = str(uuid.uuid4())  # one order: the same key on every try
    for _ in range(100):  # the orders service may not have the ticket's event yet
        try:
            payload = await gateway.mutate(
                CREATE_ORDER, "createOrder", buyer, ticketId=ticket_id, idempotencyKey=key
            )
            return payload["order"]["id"]
        except RuntimeError as exc:
            if "NOT_FOUND" not in str(exc):
                raise
            await asyncio.sleep(0.05)
    raise RuntimeError(f"ticket {ticket_id} never orderable")


async def run(ctx: Context) -> list[Row]:
    flows = ctx.load(100, 20)
    gateways = [Gateway(replica.gateway_url) for replica in ctx.stack.replicas[:2]]
    probe = EventProbe(ctx.stack.amqp_url, ctx.stack.namespace, KEYS)
    subscribers: list[Subscriber] = []
    failures: list[str] = []
    errors_before = len(ctx.stack.error_lines())
    try:
        sellers = [await gateways[0].sign_up() for _ in range(2)]
        buyers = [await gateways[1].sign_up() for _ in range(max(1, flows // 10))]
        tickets = [
            (
                await gateways[i % 2].mutate(
                    CREATE_TICKET,
                    "createTicket",
                    sellers[i % 2],
                    title="Bench",
                    price={"amount": "20", "currencyCode": "USD"},
                    idempotencyKey=str(uuid.uuid4()),
                )
            )["ticket"]["id"]
            for i in range(flows)
        ]
        await ctx.settle()
        ctx.say(f"{NAME}: {flows * 2} ticket subscribers")
        for ticket_id in tickets:
            for gateway in gateways:
                subscribers.append(await Subscriber.open(gateway.ws_url, "ticket", ticket_id, None))
        probe.clear()
        measured_from = time.time()
        orders: list[str | None] = [None] * flows

        async def place(i: int) -> None:
            orders[i] = await _order_when_orderable(
                gateways[i % 2], buyers[i % len(buyers)], tickets[i]
            )

        failures += await _paced(flows, CHANGES_PER_SECOND, place)
        ctx.say(f"{NAME}: {flows} orders placed; {flows} order subscribers")
        for i, order_id in enumerate(orders):
            if order_id is not None:
                watcher = gateways[(i + 1) % 2]  # not the one the order goes through
                subscribers.append(
                    await Subscriber.open(
                        watcher.ws_url, "order", order_id, buyers[i % len(buyers)]
                    )
                )

        async def settle(i: int) -> None:
            if orders[i] is not None:
                gateway, buyer = gateways[i % 2], buyers[i % len(buyers)]
                if i % 2 == 0:
                    await gateway.mutate(
                        PAY,
                        "createPayment",
                        buyer,
                        orderId=orders[i],
                        paymentMethod="pm_card_visa",
                        idempotencyKey=str(uuid.uuid4()),
                    )
                else:
                    await gateway.mutate(CANCEL, "cancelOrder", buyer, id=orders[i])

        failures += await _paced(flows, CHANGES_PER_SECOND, settle)
        expected = await _wait_for_pushes(probe, subscribers, measured_from, tickets, orders)
    finally:
        for subscriber in subscribers:
            with contextlib.suppress(Exception):
                await subscriber.close()
        probe.close()
        for gateway in gateways:
            await gateway.http.aclose()
    return _rows(expected, subscribers, failures, ctx.stack.error_lines()[errors_before:])


@dataclass
class Expected:
    """Event arrivals (kind, id, version) -> time, and who should push each."""

    arrivals: dict[tuple[str, str, int], float]
    watchers: dict[tuple[str, str], int]
    # How many events of each kind the mutations made should have published.
    events: dict[str, int]

    def count(self) -> int:
        """How many pushes the events should cause."""
        return sum(self.watchers.get((kind, oid), 0) for kind, oid, _ in self.arrivals)


def _arrivals(probe: EventProbe, since: float) -> dict[tuple[str, str, int], float]:
    out: dict[tuple[str, str, int], float] = {}
    for arrival in probe.arrivals():
        if arrival.at < since:
            continue
        body = arrival.json()
        kind = "order" if arrival.routing_key.startswith("order.") else "ticket"
        out.setdefault((kind, body["id"], int(body.get("version", 0))), arrival.at)
    return out


async def _wait_for_pushes(
    probe: EventProbe,
    subscribers: list[Subscriber],
    since: float,
    tickets: list[str],
    orders: list[str | None],
) -> Expected:
    # Events carry the services' own ids; the API answered global ones.
    watchers = {("ticket", raw_id(t)): 2 for t in tickets}
    watchers.update({("order", raw_id(o)): 1 for o in orders if o is not None})
    # Every order reserves its ticket and ends (COMPLETE or CANCELLED); a cancelled one (every
    # other) releases the ticket too.
    placed = [i for i, o in enumerate(orders) if o is not None]
    events = {"order": len(placed), "ticket": len(placed) + sum(1 for i in placed if i % 2)}
    deadline = time.monotonic() + MISSING_WAIT_SECONDS
    while True:
        expected = Expected(_arrivals(probe, since), watchers, events)
        pushed = sum(len(s.pushes) for s in subscribers)
        done = len(expected.arrivals) >= sum(events.values()) and pushed >= expected.count()
        if done or time.monotonic() > deadline:
            return expected
        await asyncio.sleep(0.2)


def _rows(
    expected: Expected, subscribers: list[Subscriber], failures: list[str], logged: list[str]
) -> list[Row]:
    """A row per field: tickets are pushed from the event itself, orders read from orders
    first. Mutation failures and ERROR log lines count against both."""
    rows = []
    for kind, field_name in (("ticket", "ticketUpdated"), ("order", "orderUpdated")):
        mine = [s for s in subscribers if s.kind == kind]
        samples: list[float] = []
        for subscriber in mine:
            for push in subscriber.pushes:
                arrived = expected.arrivals.get((push.kind, push.id, push.version))
                if arrived is not None:
                    samples.append((push.at - arrived) * 1000)
        events = [key for key in expected.arrivals if key[0] == kind]
        should = sum(expected.watchers.get((kind, oid), 0) for _, oid, _ in events)
        # An event that never came (a fault upstream) is a push missing too.
        unpublished = max(0, expected.events[kind] - len(events))
        per_object = 2 if kind == "ticket" else 1
        missing = max(0, should - len(samples)) + unpublished * per_object
        push_errors = [e for s in mine for e in s.errors]
        errors = len(failures) + len(push_errors) + missing + len(logged)
        latency = Latency.of(samples)
        notes = (
            f"{len(mine)} {field_name} subscribers over 2 gateways, {len(events)} events, "
            f"{len(samples)} pushes; {len(failures)} failed mutations, {len(push_errors)} error "
            f"pushes, {missing} pushes missing, {len(logged)} ERROR log lines"
        )
        rows.append(
            Row(
                scenario=f"subscriptions: event -> {field_name}",
                load=f"{len(subscribers)} subscribers, ~{CHANGES_PER_SECOND} changes/s",
                latency=latency,
                count=len(samples),
                errors=errors,
                target=f"p99 < {TARGET_P99_MS:.0f} ms",
                met=latency.p99 is not None and latency.p99 < TARGET_P99_MS and errors == 0,
                notes=notes,
                extra={
                    "failures": failures[:20],
                    "push_errors": push_errors[:20],
                    "error_log": logged[:20],
                    "missing": missing,
                },
            )
        )
    return rows


SCENARIO = Scenario(
    NAME, SHAPE, run, "event published -> subscriber's WebSocket, 2 gateways, changes via GraphQL"
)
