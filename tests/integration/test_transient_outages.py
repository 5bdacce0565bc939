"""Infrastructure that blinks: a client sees UNAVAILABLE while a dependency is really down, never
INTERNAL, and the first request after it comes back succeeds. Each test owns the server it stops
(tests/support/private_servers.py); the shared RabbitMQ and Redis are never touched."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest

from common.devstack import free_port
from gateway.clients import ServiceClients
from gateway.config import GatewaySettings
from svc_auth.bootstrap import bootstrap as auth_bootstrap
from svc_auth.config import AuthSettings
from svc_tickets.bootstrap import bootstrap as tickets_bootstrap
from svc_tickets.config import TicketsSettings
from tests.support import service_tokens
from tests.support.ids import global_id
from tests.support.private_servers import CuttableProxy, PrivateRedis, PrivateSecantus
from tests.support.processes import ServiceSet
from tests.support.servers import wait_revocations_loaded
from tests.support.stack import error_codes
from tests.support.tokens import issuer_for
from ticketing.tickets.v1 import tickets_pb2, tickets_pb2_grpc

pytestmark = pytest.mark.integration

CURRENT_USER = "{ currentUser { id } }"


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_mongo(tmp_path):
    server = PrivateSecantus(tmp_path / "secantus")
    server.start()
    yield server
    server.stop()


def signed_in(env: dict[str, str]) -> tuple[str, str]:
    user_id = str(uuid.uuid4())
    token, _ = issuer_for(env).issue(user_id, "someone@example.com")
    return user_id, token


class Tickets:
    """The tickets service in this process, and a client of it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = tickets_bootstrap(TicketsSettings.from_env(env))
        _, self.token = signed_in(env)

    async def __aenter__(self) -> Tickets:
        port = await self.process.start("127.0.0.1", 0)
        self.channel = service_tokens.channel(self.process.infra.settings, f"127.0.0.1:{port}")
        self.stub = tickets_pb2_grpc.TicketsServiceStub(self.channel)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.channel.close()
        await self.process.stop()

    async def create(self) -> tickets_pb2.Ticket:
        request = tickets_pb2.CreateTicketRequest(
            title="Concert", price="20", currency_code="USD", idempotency_key=uuid.uuid4().hex
        )
        metadata = (("authorization", f"Bearer {self.token}"),)
        return (await self.stub.CreateTicket(request, metadata=metadata, timeout=30)).ticket

    async def get(self, ticket_id: str) -> tickets_pb2.Ticket:
        request = tickets_pb2.GetTicketRequest(id=ticket_id)
        return (await self.stub.GetTicket(request, timeout=30)).ticket


@contextlib.asynccontextmanager
async def auth_running(env: dict[str, str]) -> AsyncIterator[None]:
    """Auth, which loads the revocations into Redis as it starts and whenever Redis lost them:
    until then no service can tell a revoked token from a good one, and answers UNAVAILABLE."""
    process = auth_bootstrap(AuthSettings.from_env(env))
    await process.start("127.0.0.1", 0)
    try:
        yield
    finally:
        await process.stop()


async def until_succeeds(call, timeout: float = 10):
    """The first success of `call` after a dependency came back (bounded, not timed)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


# --- MongoDB ------------------------------------------------------------------------------------


async def test_a_read_on_connections_dropped_while_idle_succeeds(env, mongo_url):
    """A NAT, a load balancer or the server's idle timeout drops pooled connections that the
    client still holds as good: the next reads by clients are served, not INTERNAL."""
    database_port = int(mongo_url.split(":")[2].split("/")[0])
    proxy = CuttableProxy(database_port)
    await proxy.start()
    url = f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true"
    try:
        async with Tickets({**env, "MONGO_URL": url}) as tickets:
            ticket = await tickets.create()
            # Several pooled connections, all of which the cut drops.
            await asyncio.gather(*(tickets.get(ticket.id) for _ in range(5)))

            await proxy.cut()

            again = await asyncio.gather(*(tickets.get(ticket.id) for _ in range(5)))
            assert [t.id for t in again] == [ticket.id] * 5
    finally:
        await proxy.close()


async def test_a_database_that_is_down_is_unavailable_not_internal(env, private_mongo):
    async with Tickets({**env, "MONGO_URL": private_mongo.url}) as tickets:
        ticket = await tickets.create()
        private_mongo.stop()  # cleanly, so the ticket is on disk when it comes back
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await tickets.get(ticket.id)
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE

        private_mongo.start()
        assert (await until_succeeds(lambda: tickets.get(ticket.id))).id == ticket.id


# --- Redis, in a service ------------------------------------------------------------------------


async def test_a_service_answers_unavailable_while_redis_is_down_and_recovers(env, private_redis):
    on_private = {**env, "REDIS_URL": private_redis.url}
    async with auth_running(on_private), Tickets(on_private) as tickets:
        await until_succeeds(tickets.create)  # pools a connection to this Redis

        private_redis.kill()
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await tickets.create()  # checking the token's revocation needs Redis
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE

        private_redis.start()
        # The pooled connections died with the old server and it came back empty: once auth
        # has loaded the revocations into it again, calls succeed.
        assert (await until_succeeds(tickets.create)).title == "Concert"


# --- Redis, at the gateway ----------------------------------------------------------------------


@pytest.fixture
def gateway(env, tmp_path, private_redis):
    """The gateway (currentUser needs no service) and auth (which keeps the revocations in
    Redis), on a Redis of this test's own."""
    processes = ServiceSet({**env, "REDIS_URL": private_redis.url}, tmp_path)
    processes.start("auth")
    processes.start("gateway")
    wait_revocations_loaded(private_redis.url, env["TICKETING_NAMESPACE"])
    yield processes
    processes.stop_all()


async def test_three_hundred_concurrent_requests_all_succeed(env, gateway):
    user_id, token = signed_in(env)
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    async with httpx.AsyncClient(base_url=gateway.base_url, limits=limits, timeout=60) as client:

        async def current_user() -> dict:
            reply = await client.post(
                "/graphql",
                json={"query": CURRENT_USER},
                headers={"authorization": f"Bearer {token}"},
            )
            return reply.json()

        answers = await asyncio.gather(*(current_user() for _ in range(300)))
    failures = [a for a in answers if a.get("errors")]
    assert failures == []
    assert {a["data"]["currentUser"]["id"] for a in answers} == {global_id("User", user_id)}


async def test_the_gateway_answers_unavailable_while_redis_is_down_and_recovers(
    env, gateway, private_redis
):
    user_id, token = signed_in(env)
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=gateway.base_url, headers=headers, timeout=30) as client:

        async def graphql() -> dict:
            return (await client.post("/graphql", json={"query": CURRENT_USER})).json()

        assert (await graphql())["data"]["currentUser"]["id"] == global_id("User", user_id)

        private_redis.kill()
        assert error_codes(await graphql()) == [("UNAVAILABLE", None)]
        rest = await client.get("/api/users/currentuser")
        assert rest.status_code == 503 and rest.json()["errors"][0]["message"]
        assert rest.json()["errors"][0]["code"] == "UNAVAILABLE"

        private_redis.start()  # empty: UNAVAILABLE until auth has loaded the revocations again
        await asyncio.to_thread(
            wait_revocations_loaded, private_redis.url, env["TICKETING_NAMESPACE"]
        )
        assert (await graphql())["data"]["currentUser"]["id"] == global_id("User", user_id)
        rest = await client.get("/api/users/currentuser")  # REST keeps the service's ids
        assert rest.json()["currentUser"]["id"] == user_id


# --- gRPC, from the gateway ---------------------------------------------------------------------


async def test_a_read_while_its_service_restarts_is_served_once_it_is_back(env):
    """The gateway's call finds the service gone (refused): gRPC retries the read, within its
    deadline, until the restarted service answers; the client never sees UNAVAILABLE."""
    port = free_port()
    settings = TicketsSettings.from_env({**env, "TICKETS_PORT": str(port)})
    clients = ServiceClients(GatewaySettings.from_env({**env, "TICKETS_PORT": str(port)}))
    _, token = signed_in(env)
    service = tickets_bootstrap(settings)
    await service.start("127.0.0.1", port)
    try:
        created = await clients.call(
            clients.tickets.CreateTicket,
            tickets_pb2.CreateTicketRequest(
                title="Concert", price="20", currency_code="USD", idempotency_key=uuid.uuid4().hex
            ),
            token,
        )
        get = tickets_pb2.GetTicketRequest(id=created.ticket.id)
        await clients.call(clients.tickets.GetTicket, get)  # the channel is connected

        await service.stop()
        read = asyncio.create_task(clients.call(clients.tickets.GetTicket, get))
        await asyncio.sleep(0.2)  # the read has found the service gone
        service = tickets_bootstrap(settings)
        await service.start("127.0.0.1", port)

        assert (await read).ticket.id == created.ticket.id
    finally:
        await clients.close()
        await service.stop()
