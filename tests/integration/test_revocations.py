"""Revoked sessions with real Redis, SecantusDB and services: the Redis cache every verifier reads
(common.revocations), auth's database as the authority (svc_auth), and a Redis that restarts
empty while auth and another service keep running (a Redis of the test's own)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime

import grpc
import pytest
import redis
import redis.asyncio as aioredis

from common.clock import FrozenClock
from common.config import CommonSettings
from common.errors import Unavailable
from common.grpc_errors import from_rpc_error
from common.jwt import Claims
from common.mongo import database_name, mongo_client
from common.redis_client import redis_client
from common.revocations import RevocationCache, SessionsEnded, TokenRevoked
from svc_auth.adapters.revocation_store import (
    COLLECTION,
    MongoRevocationRepository,
    MongoRevocationStore,
)
from svc_auth.bootstrap import bootstrap as auth_bootstrap
from svc_auth.config import AuthSettings
from svc_auth.service_layer.revocation_sync import RevocationSync
from svc_tickets.bootstrap import bootstrap as tickets_bootstrap
from svc_tickets.config import TicketsSettings
from tests.support import service_tokens
from tests.support.private_servers import PrivateRedis
from tests.support.servers import TcpProxy
from ticketing.auth.v1 import auth_pb2, auth_pb2_grpc
from ticketing.tickets.v1 import tickets_pb2, tickets_pb2_grpc

pytestmark = pytest.mark.integration

NOW = datetime(2026, 1, 1, tzinfo=UTC)
EPOCH_NOW = int(NOW.timestamp())


def claims(jti: str = "j1", sub: str = "u1", gen: int = 0) -> Claims:
    return Claims(
        sub=sub, email="a@example.com", iat=EPOCH_NOW, exp=EPOCH_NOW + 3600, jti=jti, gen=gen
    )


@pytest.fixture
async def cache(
    env: dict[str, str], redis_url: str, namespace: str
) -> AsyncIterator[RevocationCache]:
    """On the machine's Redis, in this test's namespace, marked loaded (by `env`)."""
    client = aioredis.Redis.from_url(redis_url)
    yield RevocationCache(client, namespace, FrozenClock(NOW))
    await client.aclose()


# --- the cache ---------------------------------------------------------------------------------


async def test_a_cache_not_loaded_refuses_to_decide(cache: RevocationCache) -> None:
    await cache.redis.delete(cache.loaded_key)  # as a Redis that restarted empty
    with pytest.raises(Unavailable):
        await cache.is_revoked(claims())

    await cache.begin_load("load-1")
    assert await cache.finish_load("load-1")
    assert await cache.is_revoked(claims()) is False


async def test_a_load_whose_mark_redis_lost_does_not_count(cache: RevocationCache) -> None:
    await cache.redis.delete(cache.loaded_key)
    await cache.begin_load("load-1")
    await cache.redis.delete(cache.loading_key)  # Redis restarted while the load was copying
    assert await cache.finish_load("load-1") is False
    assert await cache.is_loaded() is False
    # A later load by another replica supersedes an earlier one's mark.
    await cache.begin_load("load-2")
    await cache.begin_load("load-3")
    assert await cache.finish_load("load-2") is False
    assert await cache.finish_load("load-3") is True


async def test_revoked_tokens_and_ended_sessions(cache: RevocationCache) -> None:
    await cache.put(
        [
            TokenRevoked("j1", "u1", EPOCH_NOW + 600),
            SessionsEnded("u2", 2, EPOCH_NOW + 3660),
            SessionsEnded("u2", 1, EPOCH_NOW + 3000),  # an older change written late
            TokenRevoked("j-expired", "u1", EPOCH_NOW - 1),
        ]
    )
    assert await cache.is_revoked(claims("j1")) is True
    assert await cache.is_revoked(claims("j2")) is False
    assert await cache.is_revoked(claims("j3", sub="u2", gen=1)) is True
    assert await cache.is_revoked(claims("j4", sub="u2", gen=2)) is False
    assert await cache.is_revoked(claims("j-expired")) is False  # never written

    # Each is kept until the last token it refuses has expired, then forgotten.
    ttl = await cache.redis.ttl(f"{cache._jti_prefix}j1")
    assert 590 <= ttl <= 601
    assert 3600 <= await cache.redis.ttl(f"{cache._floor_prefix}u2") <= 3661


# --- auth's database, the authority ------------------------------------------------------------


@pytest.fixture
async def db(env: dict[str, str]) -> AsyncIterator:
    client = mongo_client(env["MONGO_URL"])
    yield client[database_name(env["TICKETING_NAMESPACE"], "auth")]
    await client.close()


async def test_the_store_keeps_live_revocations_and_purges_expired_ones(db) -> None:
    clock = FrozenClock(NOW)
    store = MongoRevocationStore(db, clock)
    repository = MongoRevocationRepository(db, None)
    await repository.record(TokenRevoked("j1", "u1", EPOCH_NOW + 60))
    await repository.record(SessionsEnded("u1", 1, EPOCH_NOW + 120))
    await repository.record(SessionsEnded("u1", 2, EPOCH_NOW + 180))  # replaces generation 1
    await repository.record(TokenRevoked("j1", "u1", EPOCH_NOW + 60))  # signed out twice

    assert sorted(map(repr, await store.live())) == sorted(
        map(
            repr,
            [TokenRevoked("j1", "u1", EPOCH_NOW + 60), SessionsEnded("u1", 2, EPOCH_NOW + 180)],
        )
    )
    clock.advance(100)
    assert await store.live() == [SessionsEnded("u1", 2, EPOCH_NOW + 180)]
    assert await store.purge() == 1
    assert await db[COLLECTION].count_documents({}) == 1


async def test_a_revocation_redis_could_not_take_is_written_by_the_sync_loop(
    env: dict[str, str], db, redis_url: str, namespace: str
) -> None:
    """Redis keeps its data but auth cannot reach it when a user signs out: the revocation is
    in auth's database, marked uncached, and the next pass writes it."""
    redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    proxy = TcpProxy(redis_port)
    proxy.start()
    settings = CommonSettings.from_env({**env, "REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0"})
    client = redis_client(settings)
    clock = FrozenClock(datetime.now(UTC))
    sync = RevocationSync(
        RevocationCache(client, namespace, clock), MongoRevocationStore(db, clock)
    )
    revoked = TokenRevoked("j-late", "u1", int(clock.now().timestamp()) + 600)
    reader = RevocationCache(aioredis.Redis.from_url(redis_url), namespace)
    try:
        proxy.stop()
        await MongoRevocationRepository(db, None).record(revoked)
        assert await sync.publish([revoked]) is False
        assert await reader.is_revoked(claims("j-late")) is False  # the window this closes

        proxy.start()  # on the same port: auth reaches Redis again
        await sync.sync_once()
        assert await reader.is_revoked(claims("j-late")) is True
        assert await MongoRevocationStore(db, clock).uncached() == []
    finally:
        proxy.stop()
        await client.aclose()
        await reader.redis.aclose()


# --- Redis restarts empty while everything keeps running ---------------------------------------


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


class Running:
    """Auth and tickets in this process, on a Redis of the test's own."""

    def __init__(self, env: dict[str, str]) -> None:
        self.auth_process = auth_bootstrap(AuthSettings.from_env(env))
        self.tickets_process = tickets_bootstrap(TicketsSettings.from_env(env))

    async def start(self) -> None:
        auth_port = await self.auth_process.start("127.0.0.1", 0)
        tickets_port = await self.tickets_process.start("127.0.0.1", 0)
        self.channels = [
            service_tokens.channel(self.auth_process.infra.settings, f"127.0.0.1:{auth_port}"),
            service_tokens.channel(self.auth_process.infra.settings, f"127.0.0.1:{tickets_port}"),
        ]
        self.auth = auth_pb2_grpc.AuthServiceStub(self.channels[0])
        self.tickets = tickets_pb2_grpc.TicketsServiceStub(self.channels[1])

    async def stop(self) -> None:
        for channel in self.channels:
            await channel.close()
        await self.tickets_process.stop()
        await self.auth_process.stop()

    async def sign_up(self) -> auth_pb2.SignUpResponse:
        email = f"u{uuid.uuid4().hex[:10]}@example.com"
        return await self.auth.SignUp(auth_pb2.SignUpRequest(email=email, password="s3cret-pass"))

    async def sign_in(self, email: str, password: str = "s3cret-pass") -> str:
        request = auth_pb2.SignInRequest(email=email, password=password)
        return (await self.auth.SignIn(request)).token

    def calls_with(self, token: str) -> list[Callable[[], Awaitable[object]]]:
        """One authenticated call to each service: every verifier must refuse alike."""
        metadata = (("authorization", f"Bearer {token}"),)
        create = tickets_pb2.CreateTicketRequest(
            title="Concert", price="20", currency_code="USD", idempotency_key=uuid.uuid4().hex
        )
        return [
            lambda: self.auth.GetUser(auth_pb2.GetUserRequest(id="x"), metadata=metadata),
            lambda: self.tickets.CreateTicket(create, metadata=metadata),
        ]


@pytest.fixture
async def running(env: dict[str, str], private_redis: PrivateRedis) -> AsyncIterator[Running]:
    services = Running({**env, "REDIS_URL": private_redis.url})
    await services.start()
    yield services
    await services.stop()


async def outcome(call: Callable[[], Awaitable[object]]) -> str:
    try:
        await call()
    except grpc.aio.AioRpcError as exc:
        error = from_rpc_error(exc)
        if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
            return f"UNAUTHENTICATED: {error.message}"
        return exc.code().name
    return "OK"


async def answers(token: str, running: Running, expected: list[str], timeout: float = 15) -> None:
    """Each service's answer for the token settles on `expected`, with nothing but UNAVAILABLE
    before (Redis back but the revocations not loaded yet): never a revoked token let through."""
    deadline = time.monotonic() + timeout
    while True:
        got = [await outcome(call) for call in running.calls_with(token)]
        if got == expected:
            return
        assert all(g in (e, "UNAVAILABLE") for g, e in zip(got, expected, strict=True)), got
        assert time.monotonic() < deadline, got
        await asyncio.sleep(0.05)


async def test_revocations_outlive_redis_restarting_empty(
    running: Running, private_redis: PrivateRedis, env: dict[str, str]
) -> None:
    up = await running.sign_up()
    signed_out = await running.sign_in(up.user.email)
    ended = await running.sign_in(up.user.email)
    await running.auth.SignOut(
        auth_pb2.SignOutRequest(), metadata=(("authorization", f"Bearer {signed_out}"),)
    )
    changed = await running.auth.ChangePassword(
        auth_pb2.ChangePasswordRequest(current_password="s3cret-pass", new_password="n3w-pass!!"),
        metadata=(("authorization", f"Bearer {ended}"),),
    )
    other = await running.sign_up()  # a good session of another user
    revoked = ["UNAUTHENTICATED: Token revoked"] * 2
    good = ["NOT_FOUND", "OK"]  # GetUser of an id not the caller's; a ticket created
    for token in (signed_out, ended, up.token):
        await answers(token, running, revoked)
    await answers(changed.token, running, good)
    sentinel = f"{env['TICKETING_NAMESPACE']}:sentinel"
    with redis.Redis.from_url(private_redis.url) as before:
        before.set(sentinel, "1")

    private_redis.kill()
    private_redis.start()  # empty, on the same port, while auth and tickets keep running
    with redis.Redis.from_url(private_redis.url) as after:
        assert not after.exists(sentinel)

    for token in (signed_out, ended, up.token):
        await answers(token, running, revoked)
    await answers(changed.token, running, good)
    await answers(other.token, running, good)
