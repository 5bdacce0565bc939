"""Revocations pushed to open subscriptions (issue 18), with real Redis: auth's writes announce
each revocation on `<ns>:revocations` (common.revocations), one written late by the sync loop
too, and a gateway process's listener (gateway/subscriptions/revocations.py) wakes exactly the
open subscriptions whose token it refuses; after Redis restarts, the listener subscribes again
and wakes every one of them (an announcement may have been missed meanwhile).

The end to end proof (a signed-out token's open orderUpdated ends within 2 s) is in
tests/e2e/test_subscriptions.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from common.clock import FrozenClock
from common.config import CommonSettings
from common.jwt import Claims
from common.mongo import database_name, mongo_client
from common.redis_client import redis_client
from common.revocations import RevocationCache, SessionsEnded, TokenRevoked
from gateway.subscriptions.revocations import OpenSessions, RevocationListener
from svc_auth.adapters.revocation_store import MongoRevocationRepository, MongoRevocationStore
from svc_auth.service_layer.revocation_sync import RevocationSync
from tests.support.private_servers import PrivateRedis
from tests.support.servers import TcpProxy

pytestmark = pytest.mark.integration

# A bound for the wait, not a measurement: announcements arrive in milliseconds.
WAIT_SECONDS = 10.0


def claims(jti: str, sub: str = "u1", gen: int = 0) -> Claims:
    now = int(datetime.now(UTC).timestamp())
    return Claims(sub=sub, email="a@example.com", iat=now, exp=now + 3600, jti=jti, gen=gen)


class Held:
    """Open subscriptions of this test, each with the event its wake-ups set."""

    def __init__(self, sessions: OpenSessions) -> None:
        self.sessions = sessions
        self.woken: dict[str, asyncio.Event] = {}
        self._exit = ExitStack()
        self._sentinels = 0

    def hold(self, name: str, token: Claims) -> None:
        event = self.woken[name] = asyncio.Event()
        self._exit.enter_context(self.sessions.holding(token, event.set))

    def reset(self) -> None:
        for event in self.woken.values():
            event.clear()

    async def wait_for(self, *names: str, cache: RevocationCache) -> set[str]:
        """Waits until `names` are woken, then until the sentinel (`settled`); every name woken
        by then."""
        async with asyncio.timeout(WAIT_SECONDS):
            for name in names:
                await self.woken[name].wait()
        return await self.settled(cache)

    async def settled(self, cache: RevocationCache) -> set[str]:
        """Every name woken once the listener has handled all that was announced before now:
        the sentinel is an announcement made after them on the same channel, for a session of
        its own, which the listener (one subscriber, reading in order) wakes after them."""
        self._sentinels += 1
        sentinel = f"sentinel {self._sentinels}"
        self.hold(sentinel, claims(f"j-{sentinel}", sub=f"u-{sentinel}"))
        await cache.put([TokenRevoked(f"j-{sentinel}", f"u-{sentinel}", expires())])
        async with asyncio.timeout(WAIT_SECONDS):
            await self.woken[sentinel].wait()
        return {
            name
            for name, event in self.woken.items()
            if event.is_set() and not name.startswith("sentinel ")
        }

    def close(self) -> None:
        self._exit.close()


@pytest.fixture
def held() -> Iterator[Held]:
    holding = Held(OpenSessions())
    yield holding
    holding.close()


@pytest.fixture
async def listening(held: Held, redis_url: str, namespace: str) -> AsyncIterator[None]:
    listener = RevocationListener(aioredis.Redis.from_url(redis_url), namespace, held.sessions)
    listener.start()
    async with asyncio.timeout(WAIT_SECONDS):
        await listener.subscribed.wait()
    yield
    await listener.stop()


@pytest.fixture
async def cache(redis_url: str, namespace: str) -> AsyncIterator[RevocationCache]:
    client = aioredis.Redis.from_url(redis_url)
    yield RevocationCache(client, namespace)
    await client.aclose()


def expires() -> int:
    return int(datetime.now(UTC).timestamp()) + 600


async def test_an_announced_revocation_wakes_exactly_the_sessions_it_refuses(
    held: Held, listening: None, cache: RevocationCache
) -> None:
    held.hold("signed out", claims("j1"))
    held.hold("same user, other token", claims("j2"))
    held.hold("same user, issued after the change", claims("j3", gen=2))
    held.hold("another user", claims("j1", sub="u2"))  # a jti of the same value, another user

    await cache.put([TokenRevoked("j1", "u1", expires())])
    assert await held.wait_for("signed out", cache=cache) == {"signed out"}

    held.reset()
    await cache.put([SessionsEnded("u1", 2, expires())])
    woken = await held.wait_for("signed out", "same user, other token", cache=cache)
    assert woken == {"signed out", "same user, other token"}  # gen 2 is not below 2


async def test_a_load_announces_nothing_and_another_namespace_is_not_heard(
    held: Held, listening: None, cache: RevocationCache, redis_url: str
) -> None:
    held.hold("signed out", claims("j1"))
    await cache.put([TokenRevoked("j1", "u1", expires())], announced=False)
    other_client = aioredis.Redis.from_url(redis_url)
    other = RevocationCache(other_client, f"other{uuid.uuid4().hex[:8]}")
    await other.put([TokenRevoked("j1", "u1", expires())])
    await other_client.aclose()
    await cache.redis.publish(cache.channel, b"not an announcement")
    assert await held.settled(cache) == set()
    # And the listener still hears this namespace's announcements.
    await cache.put([TokenRevoked("j1", "u1", expires())])
    assert await held.wait_for("signed out", cache=cache) == {"signed out"}


@pytest.fixture
async def db(env: dict[str, str]) -> AsyncIterator:
    client = mongo_client(env["MONGO_URL"])
    yield client[database_name(env["TICKETING_NAMESPACE"], "auth")]
    await client.close()


async def test_a_revocation_whose_first_write_failed_is_announced_when_the_loop_writes_it(
    held: Held,
    listening: None,
    cache: RevocationCache,
    env: dict[str, str],
    db,
    redis_url: str,
    namespace: str,
) -> None:
    redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    proxy = TcpProxy(redis_port)
    proxy.start()
    settings = CommonSettings.from_env({**env, "REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0"})
    client = redis_client(settings)
    clock = FrozenClock(datetime.now(UTC))
    sync = RevocationSync(
        RevocationCache(client, namespace, clock), MongoRevocationStore(db, clock)
    )
    revoked = TokenRevoked("j-late", "u1", expires())
    held.hold("signed out", claims("j-late"))
    try:
        proxy.stop()  # auth cannot reach Redis when the user signs out
        await MongoRevocationRepository(db, None).record(revoked)
        assert await sync.publish([revoked]) is False
        assert await held.settled(cache) == set()

        proxy.start()
        await sync.sync_once()
        assert await held.wait_for("signed out", cache=cache) == {"signed out"}
    finally:
        proxy.stop()
        await client.aclose()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


async def test_after_redis_restarts_the_listener_rechecks_every_session_and_hears_again(
    held: Held, private_redis: PrivateRedis, env: dict[str, str], namespace: str
) -> None:
    settings = CommonSettings.from_env({**env, "REDIS_URL": private_redis.url})
    listener = RevocationListener(redis_client(settings), namespace, held.sessions)
    listener.start()
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            await listener.subscribed.wait()
        held.hold("first", claims("j1"))
        held.hold("second", claims("j2", sub="u2"))

        private_redis.kill()  # whatever was announced now is lost to the listener
        private_redis.start()
        writer = aioredis.Redis.from_url(private_redis.url)
        cache = RevocationCache(writer, namespace)
        try:
            assert await held.wait_for("first", "second", cache=cache) == {"first", "second"}

            held.reset()
            await cache.put([TokenRevoked("j1", "u1", expires())])
            assert await held.wait_for("first", cache=cache) == {"first"}
        finally:
            await writer.aclose()
    finally:
        await listener.stop()
