"""Behaviour events through the gateway (in-process, its lifespan running, tickets and orders
in-process over real gRPC, the machine's RabbitMQ and Redis): what a visitor does reaches the
exchange with who did it, a Redis that is down costs the events and not the requests, and the
relay of a dead gateway process has its entries published by another."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from common.bus import RabbitPublisher
from common.service import ServiceProcess
from gateway.app import create_app
from gateway.behaviour import BehaviourRecorder, BehaviourRelay, Visitor, stream_key
from gateway.config import GatewaySettings
from gateway.visitors import COOKIE
from svc_orders.bootstrap import bootstrap as orders_bootstrap
from svc_orders.config import OrdersSettings
from svc_tickets.bootstrap import bootstrap as tickets_bootstrap
from svc_tickets.config import TicketsSettings
from tests.support import servers
from tests.support.ids import raw_id
from tests.support.tap import EventTap, Seen
from tests.support.tokens import issuer_for

pytestmark = pytest.mark.integration

CREATE = (
    "mutation($t: String!, $k: String!) { createTicket(input: {title: $t, idempotencyKey: $k, "
    'price: {amount: "20", currencyCode: USD}}) { ticket { id } userErrors { code field } } }'
)
TICKET = "query($id: ID!) { ticket(id: $id) { id } }"
PAGE = "query($n: Int) { tickets(first: $n) { edges { node { id } } } }"
ORDER = (
    "mutation($id: ID!, $k: String!) { createOrder(input: {ticketId: $id, idempotencyKey: $k}) "
    "{ order { id } userErrors { code field } } }"
)
BEHAVIOUR_KEYS = ("ticket.viewed", "tickets.browsed", "order.started")


class Gateway:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def ask(
        self, query: str, token: str | None = None, anon_id: str | None = None, **variables
    ) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        if anon_id:
            headers["cookie"] = f"{COOKIE}={anon_id}"
        reply = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert reply.status_code == 200, reply.text
        assert not reply.json().get("errors"), reply.json()
        for payload in (reply.json()["data"] or {}).values():  # a mutation: it must have run
            assert not isinstance(payload, dict) or payload.get("userErrors", []) == [], payload
        return reply

    async def sell(self, token: str, title: str) -> str:
        """The global id of a new ticket."""
        reply = await self.ask(CREATE, token, t=title, k=str(uuid.uuid4()))
        return reply.json()["data"]["createTicket"]["ticket"]["id"]


class Market:
    """Tickets and orders in this process; gateways in this process too, each with its app's
    lifespan (so its relay) running."""

    def __init__(self, env: dict[str, str]) -> None:
        self.ports = {name: servers.free_port() for name in ("tickets", "orders")}
        self.env = {**env, **{f"{n.upper()}_PORT": str(p) for n, p in self.ports.items()}}
        self.issuer = issuer_for(env)
        self.processes: list[ServiceProcess] = []

    async def start(self) -> None:
        for name, process in (
            ("tickets", tickets_bootstrap(TicketsSettings.from_env(self.env))),
            ("orders", orders_bootstrap(OrdersSettings.from_env(self.env))),
        ):
            await process.start("127.0.0.1", self.ports[name])
            self.processes.append(process)

    async def stop(self) -> None:
        for process in reversed(self.processes):
            await process.stop()

    def user(self) -> tuple[str, str]:
        user_id = str(uuid.uuid4())
        return user_id, self.issuer.issue(user_id, f"{user_id[:8]}@example.com")[0]

    @staticmethod
    def _gateway(env: dict[str, str], **settings: str):
        app = create_app(GatewaySettings.from_env({**env, **settings}))

        class Running:
            async def __aenter__(self) -> Gateway:
                self.lifespan = app.public.router.lifespan_context(app)
                await self.lifespan.__aenter__()
                transport = httpx.ASGITransport(app=app)
                self.client = httpx.AsyncClient(transport=transport, base_url="http://gateway")
                return Gateway(self.client)

            async def __aexit__(self, *exc: object) -> None:
                await self.client.aclose()
                await self.lifespan.__aexit__(None, None, None)

        return Running()

    def gateway(self, **settings: str):
        return self._gateway(self.env, **settings)


@pytest.fixture
async def market(env) -> AsyncIterator[Market]:
    market = Market(env)
    try:
        await market.start()
        yield market
    finally:
        await market.stop()


@pytest.fixture
def tap(amqp_url, namespace):
    tap = EventTap(amqp_url, namespace, BEHAVIOUR_KEYS)
    yield tap
    tap.close()


async def seen(tap: EventTap, count: int, key: str | None = None) -> list[Seen]:
    found = await asyncio.to_thread(tap.wait_for, count, 15, key)
    assert len(found) >= count, [s.routing_key for s in tap.seen]
    return found


def body(message: Seen) -> dict:
    return json.loads(message.body)


def anon_cookie(reply: httpx.Response) -> str:
    [cookie] = [c for c in reply.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")]
    return cookie


def dropped(kind: str) -> float:
    value = REGISTRY.get_sample_value(
        "ticketing_behaviour_events_total", {"type": kind, "outcome": "dropped"}
    )
    return value or 0.0


async def test_a_visit_before_and_after_sign_in_reaches_the_exchange_linked(market, tap):
    seller_id, seller = market.user()
    buyer_id, buyer = market.user()
    async with market.gateway() as gateway:
        ticket_id = await gateway.sell(seller, "Row F")
        # An anonymous first visit: the gateway gives the visitor its anonymous id.
        first = await gateway.ask(TICKET, id=ticket_id)
        cookie = anon_cookie(first)
        anon_id = cookie.split(";")[0].split("=", 1)[1]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
        assert "Max-Age=31536000" in cookie and "Path=/" in cookie
        # Back with the cookie: no new one; then signed in, still the same visitor.
        again = await gateway.ask(PAGE, anon_id=anon_id, n=5)
        assert not [c for c in again.headers.get_list("set-cookie") if c.startswith(COOKIE)]
        await gateway.ask(TICKET, buyer, anon_id=anon_id, id=ticket_id)
        await gateway.ask(ORDER, buyer, anon_id=anon_id, id=ticket_id, k=str(uuid.uuid4()))
    ticket_id = raw_id(ticket_id, "Ticket")  # events carry the services' ids

    viewed = await seen(tap, 2, "ticket.viewed")
    [browsed] = await seen(tap, 1, "tickets.browsed")
    [started] = await seen(tap, 1, "order.started")
    assert body(viewed[0]) == {
        "ticketId": ticket_id,
        "anonymousId": anon_id,
        "occurredAt": body(viewed[0])["occurredAt"],
    }
    assert {k: v for k, v in body(viewed[1]).items() if k != "occurredAt"} == {
        "ticketId": ticket_id,
        "userId": buyer_id,
        "anonymousId": anon_id,
    }
    assert {k: v for k, v in body(browsed).items() if k != "occurredAt"} == {
        "anonymousId": anon_id,
        "first": 5,
        "ticketIds": [ticket_id],
    }
    assert {k: v for k, v in body(started).items() if k != "occurredAt"} == {
        "ticketId": ticket_id,
        "userId": buyer_id,
        "anonymousId": anon_id,
    }
    for message in (*viewed, browsed, started):
        props = message.properties
        assert uuid.UUID(props.message_id)
        assert props.app_id == "gateway"
        assert props.type == f"ticketing.events.v1.{type_of(message.routing_key)}"
        occurred = datetime.fromisoformat(body(message)["occurredAt"].replace("Z", "+00:00"))
        assert abs(occurred - datetime.now(UTC)) < timedelta(minutes=1)
        # The time the request recorded, to the millisecond, travels with it too.
        assert props.headers["x-occurred-at-ms"] == int(occurred.timestamp() * 1000)
    assert seller_id not in {body(m).get("userId") for m in tap.seen}


def type_of(routing_key: str) -> str:
    return {
        "ticket.viewed": "TicketViewed",
        "tickets.browsed": "TicketsBrowsed",
        "order.started": "OrderStarted",
    }[routing_key]


async def test_requests_succeed_when_redis_is_down_and_the_events_are_counted_dropped(market, tap):
    _, seller = market.user()
    async with market.gateway() as gateway:
        ticket_id = await gateway.sell(seller, "Row F")
    views, pages = dropped("TicketViewed"), dropped("TicketsBrowsed")
    nothing = f"redis://127.0.0.1:{servers.free_port()}/0"  # nothing listens there
    async with market.gateway(REDIS_URL=nothing) as gateway:
        reply = await gateway.ask(TICKET, id=ticket_id)
        assert reply.json()["data"]["ticket"] == {"id": ticket_id}
        reply = await gateway.ask(PAGE, n=5)
        assert reply.json()["data"]["tickets"]["edges"] == [{"node": {"id": ticket_id}}]
    assert dropped("TicketViewed") == views + 1
    assert dropped("TicketsBrowsed") == pages + 1
    # Nothing of them reached the exchange: a view recorded afterwards is the first seen.
    async with market.gateway() as gateway:
        await gateway.ask(TICKET, id=ticket_id)
        assert [m.routing_key for m in await seen(tap, 1)] == ["ticket.viewed"]


# -- the relay, on its own -----------------------------------------------------------------------


@pytest.fixture
async def redis_client(redis_url) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def publisher(amqp_url, namespace) -> AsyncIterator[RabbitPublisher]:
    publisher = RabbitPublisher(amqp_url, namespace)
    yield publisher
    await publisher.close()


async def record_views(redis_client, namespace: str, count: int) -> list[str]:
    recorder = BehaviourRecorder(redis_client, namespace)
    tickets = [f"t-{n}" for n in range(count)]
    for ticket_id in tickets:
        await recorder.ticket_viewed(Visitor("", "anon"), ticket_id)
    return tickets


async def stream_state(redis_client, namespace: str) -> tuple[int, int]:
    """(entries in the stream, entries handed to a relay and not acknowledged)."""
    key = stream_key(namespace)
    pending = await redis_client.xpending(key, "relay")
    return await redis_client.xlen(key), pending["pending"]


class Died(Exception):
    """The process was killed between reading its entries and RabbitMQ's confirm."""


async def dies(docs: list[dict]) -> None:
    raise Died


async def test_entries_a_dead_relay_held_are_published_by_another(
    redis_client, publisher, namespace, tap
):
    tickets = await record_views(redis_client, namespace, 3)
    doomed = BehaviourRelay(redis_client, namespace, dies, claim_seconds=60, name="doomed")
    with pytest.raises(Died):
        await doomed.relay_once()
    assert await stream_state(redis_client, namespace) == (3, 3)  # handed to it, held

    # Within the lease, another relay leaves them alone...
    survivor = BehaviourRelay(redis_client, namespace, publisher.publish, claim_seconds=60)
    assert await survivor.take_over() == 0
    assert await survivor.relay_once() == 0
    # ...and once the lease is over (a lease of 0: over at once), it publishes them.
    survivor.claim_ms = 0
    assert await survivor.take_over() == 3

    published = await seen(tap, 3)
    assert sorted(body(m)["ticketId"] for m in published) == tickets
    assert await stream_state(redis_client, namespace) == (0, 0)


async def test_a_relay_that_could_not_publish_tries_its_entries_again_first(
    redis_client, publisher, namespace, tap
):
    broker_down = True

    async def publish(docs: list[dict]) -> None:
        if broker_down:
            raise ConnectionError("RabbitMQ is down")
        await publisher.publish(docs)

    relay = BehaviourRelay(redis_client, namespace, publish, claim_seconds=60)
    tickets = await record_views(redis_client, namespace, 2)
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    more = await record_views(redis_client, namespace, 1)
    assert await stream_state(redis_client, namespace) == (3, 2)

    broker_down = False
    assert await relay.relay_once() == 2  # its own pending ones first
    assert await relay.relay_once() == 1  # then the new one
    assert sorted(body(m)["ticketId"] for m in await seen(tap, 3)) == sorted(tickets + more)
    assert await stream_state(redis_client, namespace) == (0, 0)
