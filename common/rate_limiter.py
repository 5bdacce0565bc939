"""Counting requests against limits in Redis, with the `limits` library (its Lua scripts make
each check one atomic round trip, so every worker and replica shares one count). The gateway's
limits (gateway/rate_limits) and auth's sign-in throttling (svc_auth) both count with it.

Two algorithms, by the size of the limit:
- exact (`limits`' moving window): a timestamp per request in a Redis list, at most `amount` of
  them; the N+1st request within any window is refused, and Retry-After is when the oldest one
  leaves the window. For the small sign-in and sign-up limits.
- approximate (sliding window counter): two counters per key whatever the limit, the previous
  window's weighted by how much of it still overlaps. For the GraphQL limits, hundreds a minute
  per user or address, where a list per caller would cost memory for nothing.

When Redis does not answer, each limit does what its `on_outage` says: ALLOW (fail open) or
REFUSE (fail closed, UNAVAILABLE). After a failure the limiter does not ask Redis for a second
(`OUTAGE_PAUSE_SECONDS`), so an outage costs a request at most one short timeout, not one each.
"""

from __future__ import annotations

import enum
import functools
import logging
import math
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import (
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from limits.errors import StorageError
from redis.exceptions import RedisError

from common.config import CommonSettings
from common.errors import RateLimited, Unavailable
from common.redis_client import redis_client

log = logging.getLogger(__name__)

OUTAGE_PAUSE_SECONDS = 1.0
# The longest a limit check may wait for Redis (and for a free connection) before the limit's
# outage rule applies: a check is one short script, and a request must not wait on a dead Redis.
CHECK_TIMEOUT_SECONDS = 0.5


class Counting(enum.Enum):
    EXACT = "moving window"
    APPROXIMATE = "sliding window counter"


class OnOutage(enum.Enum):
    ALLOW = "allow"  # fail open: the request goes through uncounted
    REFUSE = "refuse"  # fail closed: UNAVAILABLE


@dataclass(frozen=True)
class Limit:
    name: str  # part of its Redis keys, e.g. "signin-account"
    amount: int  # requests within any window; 0: no limit
    window_seconds: int
    counting: Counting
    on_outage: OnOutage
    refusal: str  # what the client is told, before " Try again in N seconds."

    @property
    def enabled(self) -> bool:
        return self.amount > 0

    @functools.cached_property
    def item(self) -> RateLimitItemPerSecond:
        # Made once per limit, not on every request it counts.
        return RateLimitItemPerSecond(self.amount, self.window_seconds, namespace=self.name)


class Limiter:
    def __init__(self, redis: aioredis.Redis, namespace: str) -> None:
        storage = RedisStorage(
            "async+redis://",  # the connection comes from `redis`'s pool
            connection_pool=redis.connection_pool,
            implementation="redispy",
            key_prefix=f"{namespace}:ratelimit",
            wrap_exceptions=True,
        )
        self._redis = redis
        self._strategies: dict[Counting, RateLimiter] = {
            Counting.EXACT: MovingWindowRateLimiter(storage),
            Counting.APPROXIMATE: SlidingWindowCounterRateLimiter(storage),
        }
        self._paused_until = 0.0

    async def hit(self, limit: Limit, key: str) -> None:
        """Counts one request of `key` against `limit`; `RateLimited` if it is one too many (not
        counted then), `Unavailable` if Redis does not answer and the limit fails closed."""
        if not limit.enabled:
            return
        strategy = self._strategies[limit.counting]
        if self._paused():
            return self._outage(limit)
        try:
            if await strategy.hit(limit.item, key):
                return
            stats = await strategy.get_window_stats(limit.item, key)
        except (StorageError, RedisError) as exc:
            self._pause(exc)
            return self._outage(limit)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"{limit.refusal} Try again in {retry_after} seconds.", retry_after_seconds=retry_after
        )

    async def clear(self, limit: Limit, key: str) -> None:
        """Forgets what `key` has used of `limit` (best effort: a failure leaves it counted)."""
        if not limit.enabled or self._paused():
            return
        try:
            await self._strategies[limit.counting].clear(limit.item, key)
        except (StorageError, RedisError) as exc:
            self._pause(exc)

    async def close(self) -> None:
        await self._redis.aclose()

    def _paused(self) -> bool:
        return time.monotonic() < self._paused_until

    def _pause(self, exc: Exception) -> None:
        cause = exc.storage_error if isinstance(exc, StorageError) else exc
        log.warning("rate limits: Redis did not answer", extra={"error": repr(cause)})
        self._paused_until = time.monotonic() + OUTAGE_PAUSE_SECONDS

    def _outage(self, limit: Limit) -> None:
        if limit.on_outage is OnOutage.REFUSE:
            raise Unavailable("Cannot check the request rate right now, try again shortly")


def limiter(settings: CommonSettings) -> Limiter:
    """On a Redis client of its own that fails fast; connects to nothing yet."""
    return Limiter(
        redis_client(settings, fail_fast_seconds=CHECK_TIMEOUT_SECONDS), settings.namespace
    )
