"""The ticket cache through the real gateway (`python -m gateway`, its own process), tickets and
orders in-process over real gRPC, SecantusDB, RabbitMQ and Redis:

- read-your-writes: after updateTicket returns, the caller's next ticket(id) and tickets(first)
  show it, with no event to help (the gateway cannot reach RabbitMQ) and a warm cache that,
  proven first, serves what it holds;
- a hold is HELD at once (the state is orders', never the cache's), and leaves the cached list
  of tickets for sale once its event has arrived;
- Redis down: reads keep being served, from tickets, and from the cache again once it is back;
- the cache off: every read asks tickets.

A change "behind the gateway's back" is one made on the tickets service directly over gRPC: the
gateway learns of it only through the event, if at all."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import httpx
import pika.exceptions
import pytest
import redis
from prometheus_client import REGISTRY

from common import bus
from common.service import ServiceProcess
from gateway import global_ids
from gateway.clients import ServiceClients
from gateway.config import GatewaySettings
from gateway.loaders import tickets_loader
from gateway.ticket_cache import TicketReads, ticket_cache
from svc_orders.bootstrap import bootstrap as orders_bootstrap
from svc_orders.config import OrdersSettings
from svc_tickets.bootstrap import bootstrap as tickets_bootstrap
from svc_tickets.config import TicketsSettings
from tests.support import servers, service_tokens
from tests.support.private_servers import PrivateRedis
from tests.support.tokens import issuer_for
from tests.support.waiting import until_async as until
from ticketing.tickets.v1 import tickets_pb2, tickets_pb2_grpc

pytestmark = pytest.mark.integration

TICKET = (
    "query($id: ID!) { ticket(id: $id) { id title version state price { amount currencyCode } } }"
)
PAGE = (
    "query($n: Int, $all: Boolean) { tickets(first: $n, includeUnavailable: $all) "
    "{ edges { node { id title version } } } }"
)
CREATE = (
    "mutation($t: String!, $key: String!) { createTicket(input: {title: $t, "
    'price: {amount: "20", currencyCode: EUR}, idempotencyKey: $key}) '
    "{ ticket { id title version } userErrors { code field } } }"
)
UPDATE = (
    "mutation($id: ID!, $v: Int!, $t: String!) { updateTicket(input: {id: $id, "
    "expectedVersion: $v, title: $t}) { ticket { id title version } userErrors { code field } } }"
)
ORDER = (
    "mutation($id: ID!, $key: String!) { createOrder(input: {ticketId: $id, idempotencyKey: $key}) "
    "{ order { id } userErrors { code field } } }"
)


ORDER_WITH_TICKET = (
    "mutation($id: ID!, $key: String!) { createOrder(input: {ticketId: $id, idempotencyKey: $key}) "
    "{ order { id ticket { state } } userErrors { code field } } }"
)


def raw_id(global_id: str) -> str:
    """The tickets service's id inside a global id (the test talks to tickets directly too)."""
    return global_ids.decode(global_id, "Ticket")


class Gateway:
    """A gateway process and an HTTP client of it."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def ask(self, query: str, token: str | None = None, **variables) -> dict:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        reply = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    async def data(self, query: str, token: str | None = None, **variables) -> dict:
        result = await self.ask(query, token, **variables)
        assert not result.get("errors"), result
        return result["data"]

    async def ticket(self, ticket_id: str) -> dict:
        return (await self.data(TICKET, id=ticket_id))["ticket"]

    async def create(self, token: str, title: str) -> dict:
        """A ticket listed through the gateway (its payload's ticket)."""
        key = str(uuid.uuid4())
        payload = (await self.data(CREATE, token, t=title, key=key))["createTicket"]
        assert payload["userErrors"] == [], payload
        return payload["ticket"]

    async def listed(self, ticket_id: str, *, include_unavailable: bool = False) -> dict | None:
        """The ticket as the first page shows it, None if it is not on it."""
        page = await self.data(PAGE, n=50, all=include_unavailable)
        nodes = [e["node"] for e in page["tickets"]["edges"] if e["node"]["id"] == ticket_id]
        return nodes[0] if nodes else None

    async def titles(self, ticket_id: str) -> tuple[str, str | None]:
        """(ticket(id)'s title, the first page's title for it)."""
        listed = await self.listed(ticket_id)
        return (await self.ticket(ticket_id))["title"], listed and listed["title"]


class Market:
    """Tickets and orders in this process, on ports chosen up front, and gateways started as
    processes of their own with settings of the test's choosing."""

    def __init__(self, env: dict[str, str]) -> None:
        self.ports = {name: servers.free_port() for name in ("tickets", "orders")}
        self.env = {**env, **{f"{n.upper()}_PORT": str(p) for n, p in self.ports.items()}}
        self.issuer = issuer_for(env)
        self.processes: list[ServiceProcess] = [
            tickets_bootstrap(TicketsSettings.from_env(self.env)),
            orders_bootstrap(OrdersSettings.from_env(self.env)),
        ]
        self.channel = service_tokens.channel(self.env, f"127.0.0.1:{self.ports['tickets']}")
        self.tickets = tickets_pb2_grpc.TicketsServiceStub(self.channel)

    def user(self) -> str:
        user_id = str(uuid.uuid4())
        return self.issuer.issue(user_id, f"{user_id[:8]}@example.com")[0]

    async def edit_behind_the_gateways_back(
        self, seller: str, ticket_id: str, title: str, expected_version: int
    ):
        request = tickets_pb2.UpdateTicketRequest(
            id=raw_id(ticket_id), title=title, expected_version=expected_version
        )
        metadata = (("authorization", f"Bearer {seller}"),)
        return (await self.tickets.UpdateTicket(request, metadata=metadata, timeout=30)).ticket

    @contextlib.asynccontextmanager
    async def gateway(self, **settings: str) -> AsyncIterator[Gateway]:
        port = servers.free_port()
        env = servers.environ(
            {
                **self.env,
                "GATEWAY_PORT": str(port),
                "GATEWAY_ADMIN_PORT": str(servers.free_port()),
                **settings,
            }
        )
        proc = await asyncio.to_thread(subprocess.Popen, [sys.executable, "-m", "gateway"], env=env)
        try:
            await asyncio.to_thread(servers.wait_for_port, port, 30, proc)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
                yield Gateway(c)
        finally:
            await asyncio.to_thread(servers.stop_process, proc)


@pytest.fixture
async def market(env) -> AsyncIterator[Market]:
    market = Market(env)
    started = []
    try:
        for name, process in zip(("tickets", "orders"), market.processes, strict=True):
            await process.start("127.0.0.1", market.ports[name])
            started.append(process)
            await process.wait_consumers_ready()
        yield market
    finally:
        await market.channel.close()
        for process in reversed(started):
            await process.stop()


def no_broker() -> str:
    """An AMQP URL nothing answers: the gateway's event consumer never connects."""
    return servers.amqp_url_via(servers.free_port())


async def consuming(amqp_url: str, namespace: str) -> None:
    """Until a gateway consumes its queue (bound to tickets' events)."""

    def consumers() -> int:
        connection = bus.connect(amqp_url)
        try:
            queue = bus.queue_name(namespace, "gateway")
            return connection.channel().queue_declare(queue, passive=True).method.consumer_count
        except pika.exceptions.ChannelClosedByBroker:
            return 0  # not declared yet
        finally:
            connection.close()

    await until(lambda: asyncio.to_thread(consumers), lambda count: count > 0)


# -- read-your-writes ----------------------------------------------------------------------------


async def test_the_callers_next_read_shows_its_update_with_no_event_to_help(market):
    seller = market.user()
    async with market.gateway(AMQP_URL=no_broker()) as gateway:
        created = await gateway.create(seller, "Before")
        ticket_id = created["id"]
        assert await gateway.titles(ticket_id) == ("Before", "Before")  # the cache is warm

        # The cache serves what it holds: a change it was not told of does not show.
        await market.edit_behind_the_gateways_back(seller, ticket_id, "Behind", created["version"])
        assert await gateway.titles(ticket_id) == ("Before", "Before")
        # What it holds is the whole ticket, its currency too.
        cached = await gateway.ticket(ticket_id)
        assert cached["price"] == {"amount": "20.00", "currencyCode": "EUR"}

        # The seller knows the version behind the cache's back (they made it).
        version = created["version"] + 1
        updated = (await gateway.data(UPDATE, seller, id=ticket_id, v=version, t="After"))[
            "updateTicket"
        ]
        assert updated["userErrors"] == [] and updated["ticket"]["version"] == 2

        assert await gateway.titles(ticket_id) == ("After", "After")
        assert (await gateway.ticket(ticket_id))["version"] == 2


async def test_a_created_ticket_is_on_the_callers_next_first_page(market):
    seller = market.user()
    async with market.gateway(AMQP_URL=no_broker()) as gateway:
        first = await gateway.create(seller, "First")
        assert await gateway.listed(first["id"])  # the first page is now cached
        second = await gateway.create(seller, "Second")
        page = await gateway.data(PAGE, n=50, all=False)
        assert [e["node"]["id"] for e in page["tickets"]["edges"]] == [second["id"], first["id"]]


# -- other callers -------------------------------------------------------------------------------


async def test_a_hold_is_held_at_once_and_leaves_the_cached_list_once_its_event_arrives(
    market, amqp_url
):
    seller, buyer = market.user(), market.user()
    async with market.gateway() as gateway:
        await consuming(amqp_url, market.env["TICKETING_NAMESPACE"])
        ticket_id = (await gateway.create(seller, "Concert"))["id"]
        # Cached (written through, then read): without the event the page would be served on.
        assert (await gateway.ticket(ticket_id))["state"] == "FOR_SALE"
        assert await gateway.listed(ticket_id)
        assert await gateway.listed(ticket_id, include_unavailable=True)

        key = str(uuid.uuid4())
        placed = (await gateway.data(ORDER, buyer, id=ticket_id, key=key))["createOrder"]
        assert placed["userErrors"] == [] and placed["order"]["id"]

        # The state is the authority's (tickets): HELD at once, the hold read from tickets.
        assert (await gateway.ticket(ticket_id))["state"] == "HELD"
        # The listing follows through tickets' TicketUpdated, which invalidates the cache.
        await until(lambda: gateway.listed(ticket_id), lambda listed: listed is None)
        assert (await gateway.listed(ticket_id, include_unavailable=True))["title"] == "Concert"


def get_ticket_calls() -> float:
    """GetTicket calls the tickets service of this process has answered, whatever their code."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "grpc_server_handled"
        for sample in metric.samples
        if sample.name == "grpc_server_handled_total"
        and sample.labels["grpc_service"] == "ticketing.tickets.v1.TicketsService"
        and sample.labels["grpc_method"] == "GetTicket"
    )


async def test_a_buyers_order_shows_the_ticket_held_with_no_event_to_help(market):
    """The gateway hears no events at all: the cache would serve the ticket FOR_SALE on. The
    order placed through it holds the seat in tickets, which orders relays as tickets answered
    the hold: the gateway puts that into its answer and its cache, with no GetTicket, so every
    read after it says HELD. The same request again (a retry with its key) holds nothing: then
    the gateway reads the ticket back from tickets."""
    seller, buyer = market.user(), market.user()
    async with market.gateway(AMQP_URL=no_broker()) as gateway:
        ticket_id = (await gateway.create(seller, "Concert"))["id"]
        assert (await gateway.ticket(ticket_id))["state"] == "FOR_SALE"  # the cache is warm
        key, reads = str(uuid.uuid4()), get_ticket_calls()
        held = (await gateway.data(ORDER_WITH_TICKET, buyer, id=ticket_id, key=key))["createOrder"]
        assert held["userErrors"] == [] and held["order"]["ticket"]["state"] == "HELD"
        assert get_ticket_calls() == reads
        assert (await gateway.ticket(ticket_id))["state"] == "HELD"
        reads = get_ticket_calls()
        again = (await gateway.data(ORDER_WITH_TICKET, buyer, id=ticket_id, key=key))["createOrder"]
        assert again == held and get_ticket_calls() == reads + 1
        other = market.user()
        second = (await gateway.data(ORDER, other, id=ticket_id, key=str(uuid.uuid4())))[
            "createOrder"
        ]
        assert [e["code"] for e in second["userErrors"]] == ["CONFLICT"]


# -- Redis down ----------------------------------------------------------------------------------


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


async def test_reads_are_served_while_redis_is_down_and_cached_again_after(market, private_redis):
    # No auth here: the test marks the revocations loaded in its Redis, as auth would.
    servers.mark_revocations_loaded(private_redis.url, market.env["TICKETING_NAMESPACE"])
    seller = market.user()
    async with market.gateway(REDIS_URL=private_redis.url) as gateway:
        ticket_id = (await gateway.create(seller, "Concert"))["id"]
        assert await gateway.titles(ticket_id) == ("Concert", "Concert")

        private_redis.kill()
        for _ in range(3):
            assert await gateway.titles(ticket_id) == ("Concert", "Concert")
            assert (await gateway.listed(ticket_id, include_unavailable=True))["title"] == "Concert"

        private_redis.start()  # empty, on the same port
        # A sentinel only the cache can serve: an entry at a version tickets never had.
        sentinel = await market.tickets.GetTicket(
            tickets_pb2.GetTicketRequest(id=raw_id(ticket_id))
        )
        sentinel.ticket.version, sentinel.ticket.title = 99, "Served from Redis"
        cache = ticket_cache(
            GatewaySettings.from_env({**market.env, "REDIS_URL": private_redis.url})
        )
        assert cache is not None
        try:
            await cache.fill([sentinel.ticket])
        finally:
            await cache.close()
        await until(lambda: gateway.ticket(ticket_id), lambda t: t["title"] == "Served from Redis")


async def test_the_tickets_of_a_page_of_orders_are_read_while_redis_is_down(market):
    """An order's ticket (the tickets DataLoader). Through the gateway a signed-in read needs
    Redis for revocations and is UNAVAILABLE without it; the loader itself must not fail."""
    seller = market.user()
    metadata = (("authorization", f"Bearer {seller}"),)
    created = [
        (
            await market.tickets.CreateTicket(
                tickets_pb2.CreateTicketRequest(
                    title="Concert",
                    price="20",
                    currency_code="EUR",
                    idempotency_key=str(uuid.uuid4()),
                ),
                metadata=metadata,
            )
        ).ticket
        for _ in range(3)
    ]
    settings = GatewaySettings.from_env(
        {**market.env, "REDIS_URL": f"redis://127.0.0.1:{servers.free_port()}/0"}
    )
    clients, cache = ServiceClients(settings), ticket_cache(settings)
    reads = TicketReads(clients, cache)
    try:
        found = await tickets_loader(reads).load_many([t.id for t in created] + ["unknown"])
    finally:
        await reads.close()
        await clients.close()
    assert [t and (t.id, t.title) for t in found] == [(t.id, "Concert") for t in created] + [None]


# -- the cache off -------------------------------------------------------------------------------


async def test_with_the_cache_off_every_read_asks_tickets(market, redis_url):
    seller = market.user()
    async with market.gateway(TICKET_CACHE_ENABLED="false", AMQP_URL=no_broker()) as gateway:
        created = await gateway.create(seller, "Before")
        ticket_id = created["id"]
        assert await gateway.titles(ticket_id) == ("Before", "Before")

        await market.edit_behind_the_gateways_back(seller, ticket_id, "Behind", created["version"])
        assert await gateway.titles(ticket_id) == ("Behind", "Behind")

    prefix = f"{market.env['TICKETING_NAMESPACE']}:gateway:"
    assert list(redis.Redis.from_url(redis_url).scan_iter(f"{prefix}*")) == []
