"""Open WebSocket connections counted in the real Redis (gateway/rate_limits/connections.py): the
count is shared by every gateway process, a slot given back frees a place, a process's slots
last as long as it renews them, and the slots of one that died lapse on their own."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from gateway.rate_limits.connections import OpenConnections
from tests.support.waiting import until_async

pytestmark = pytest.mark.integration

LEASE_SECONDS = 0.6


def process(redis_url: str, namespace: str) -> OpenConnections:
    redis = aioredis.Redis.from_url(redis_url)
    return OpenConnections(redis, namespace, lease_seconds=LEASE_SECONDS)


def died(connections: OpenConnections) -> None:
    """It stops renewing, as a process that was killed does, and gives nothing back."""
    assert connections._renewing is not None
    connections._renewing.cancel()


async def test_slots_are_shared_and_given_back(redis_url, namespace):
    first, other = process(redis_url, namespace), process(redis_url, namespace)
    try:
        held = [await first.claim("user", "u1", 2) for _ in range(2)]
        assert all(held)
        assert await other.claim("user", "u1", 2) is None  # another process sees the count
        assert await other.claim("user", "u2", 2) is not None  # each key its own
        await first.release(held[0])
        assert await other.claim("user", "u1", 2) is not None
        assert await other.claim("user", "u1", 2) is None
    finally:
        await first.close()
        await other.close()


async def test_renewed_slots_last_and_a_dead_processs_lapse(redis_url, namespace):
    living, dead, other = (process(redis_url, namespace) for _ in range(3))
    try:
        assert all([await living.claim("user", "u1", 3) for _ in range(2)])
        assert await dead.claim("user", "u1", 3) is not None  # claimed after living's two
        died(dead)
        # The sentinel: dead's slot lapses one lease after it was claimed. living's two, claimed
        # before it, would have lapsed first without their renewals.
        await until_async(lambda: other.claim("user", "u1", 3), lambda slot: slot is not None)
        assert await other.claim("user", "u1", 3) is None
        died(living)
        await until_async(lambda: other.claim("user", "u1", 3), lambda slot: slot is not None)
    finally:
        for connections in (living, dead, other):
            await connections.close()


async def test_without_redis_a_connection_is_let_in():
    nowhere = aioredis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)
    connections = OpenConnections(nowhere, "t-none")
    try:
        assert await connections.claim("address", "127.0.0.1", 1) is not None
        assert await connections.claim("address", "127.0.0.1", 1) is not None
    finally:
        await connections.close()
