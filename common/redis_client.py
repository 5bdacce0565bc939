"""The one way a process builds its Redis client: a bounded pool that waits for a free connection
instead of failing, short timeouts, and quick retries on a dropped connection, so that a burst of
requests queues, a Redis that restarts is used again by the next command, and a Redis that is
really down fails fast (as `Unavailable`, see common.outages)."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError, TimeoutError

from common.config import CommonSettings

# A failed command is retried on a new connection, three times within ~0.3 s: long enough for a
# restarted server to accept, short enough that a dead one is reported in well under a second
# (redis-py's default of ten retries up to 1 s each kept callers failing ~8 s after it was back).
# Every command this system sends is safe to send twice (SET with a TTL, EXISTS, ZADD, and
# scripts whose effect a second run repeats or leaves alone).
_RETRY = Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.25), retries=3)
_RETRY_ONCE = Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.05), retries=1)
# A connection idle longer than this is PINGed before use, so one a NAT or a proxy dropped
# silently is found out and replaced, not used.
_HEALTH_CHECK_SECONDS = 30

OUTAGES: tuple[type[Exception], ...] = (ConnectionError, TimeoutError)


def redis_client(
    settings: CommonSettings, *, fail_fast_seconds: float | None = None
) -> aioredis.Redis:
    """Connects lazily, on the first command.

    `fail_fast_seconds`: for a cache, which must never hold a request up. A command (or the wait
    for a free connection) that takes longer fails, and a failed one is retried once, not three
    times: the caller then does without the cache."""
    timeout = fail_fast_seconds or settings.redis_socket_timeout_seconds
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url.get_secret_value(),
        max_connections=settings.redis_max_connections,
        timeout=fail_fast_seconds or settings.redis_pool_timeout_seconds,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        socket_keepalive=True,
        health_check_interval=_HEALTH_CHECK_SECONDS,
        retry=_RETRY if fail_fast_seconds is None else _RETRY_ONCE,
    )
    return aioredis.Redis.from_pool(pool)
