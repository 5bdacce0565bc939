"""The expiry schedule, kept in Redis so that it outlives any replica.

Keys (`<ns>` is TICKETING_NAMESPACE):
- `<ns>:expiration:due`: sorted set, order id -> due time (epoch ms). Waiting orders.
- `<ns>:expiration:firing`: sorted set, order id -> lease deadline (epoch ms). Orders a replica
  claimed and is publishing; once the deadline passes any replica may claim them again.
- `<ns>:expiration:firing-due`: hash, order id -> due time, for orders in `firing`.
- `<ns>:expiration:settled`: sorted set, order id -> when it fired or was cancelled. Remembered
  for `remember_seconds`, so a redelivered OrderCreated does not schedule it a second time.
- `<ns>:expiration:trace`: hash, order id -> the trace context its OrderCreated came with, so
  its OrderExpired continues that trace (common/tracing.py); gone once the order is settled.

An order is in at most one of `due`, `firing` and `settled`. Every change that reads before it
writes is one Lua script or MULTI, so replicas racing on the same order cannot both claim it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis

from svc_expiration.domain.model import Expiration, ExpirationState

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

# KEYS: due, firing, settled, trace. ARGV: order id, due ms, trace context ('' for none).
# 1 if scheduled now, 0 if it already was.
_SCHEDULE = """
if redis.call('ZSCORE', KEYS[2], ARGV[1]) or redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  return 0
end
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
if added == 1 and ARGV[3] ~= '' then
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
end
return added
"""

# KEYS: due, firing, firing-due, settled. ARGV: now ms, lease deadline ms, batch size, forget
# settled before ms. Claims firing orders whose lease ran out (their replica died or gave them
# back), then due ones, at most `batch` in all; returns their ids.
_CLAIM = """
local now, lease_until, batch = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[4])
local claimed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, batch)
for _, id in ipairs(claimed) do
  redis.call('ZADD', KEYS[2], lease_until, id)
end
if #claimed < batch then
  local due = redis.call(
    'ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, batch - #claimed)
  for i = 1, #due, 2 do
    local id = due[i]
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZADD', KEYS[2], lease_until, id)
    redis.call('HSET', KEYS[3], id, due[i + 1])
    table.insert(claimed, id)
  end
end
return claimed
"""


def to_ms(moment: datetime, *, round_up: bool = False) -> int:
    """Epoch milliseconds. Due times round up and `now` rounds down, so nothing fires early."""
    if round_up:
        return -((EPOCH - moment) // _MS)
    return (moment - EPOCH) // _MS


def from_ms(ms: float) -> datetime:
    return EPOCH + timedelta(milliseconds=int(ms))


class Scheduler:
    def __init__(
        self, redis: aioredis.Redis, namespace: str, remember_seconds: float = 24 * 3600
    ) -> None:
        self.redis = redis
        prefix = f"{namespace}:expiration:"
        self.due_key = prefix + "due"
        self.firing_key = prefix + "firing"
        self.firing_due_key = prefix + "firing-due"
        self.settled_key = prefix + "settled"
        self.trace_key = prefix + "trace"
        self.remember = timedelta(seconds=remember_seconds)
        self._schedule = redis.register_script(_SCHEDULE)
        self._claim = redis.register_script(_CLAIM)

    async def schedule(self, order_id: str, due: datetime, trace_context: str = "") -> bool:
        """Puts the order on the schedule unless it is, or was lately, on it already, with the
        trace context (common.tracing.serialize_carrier) its expiry is to continue."""
        added = await self._schedule(
            keys=[self.due_key, self.firing_key, self.settled_key, self.trace_key],
            args=[order_id, to_ms(due, round_up=True), trace_context],
        )
        return bool(added)

    async def trace_contexts(self, order_ids: list[str]) -> list[str]:
        """The trace context each order was scheduled with ('' for none)."""
        if not order_ids:
            return []
        found = await self.redis.hmget(self.trace_key, order_ids)
        return [value.decode() if value else "" for value in found]

    async def cancel(self, order_id: str, now: datetime) -> None:
        await self._settle([order_id], now)

    async def claim_due(self, now: datetime, lease_until: datetime, batch: int = 100) -> list[str]:
        """Takes up to `batch` due orders for this caller until `lease_until`."""
        claimed = await self._claim(
            keys=[self.due_key, self.firing_key, self.firing_due_key, self.settled_key],
            args=[to_ms(now), to_ms(lease_until), batch, to_ms(now - self.remember)],
        )
        return [member.decode() for member in claimed]

    async def done(self, order_ids: list[str], now: datetime) -> None:
        """The orders' OrderExpired was published: off the schedule for good."""
        await self._settle(order_ids, now)

    async def release(self, order_ids: list[str], now: datetime) -> None:
        """Gives claimed orders back at once (publishing failed) instead of at the lease's end."""
        if order_ids:
            await self.redis.zadd(self.firing_key, dict.fromkeys(order_ids, to_ms(now)), xx=True)

    async def get(self, order_id: str) -> Expiration | None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zscore(self.due_key, order_id)
            pipe.zscore(self.firing_key, order_id)
            pipe.hget(self.firing_due_key, order_id)
            due, lease_until, firing_due = await pipe.execute()
        if due is not None:
            return Expiration(order_id, from_ms(due), ExpirationState.SCHEDULED)
        if lease_until is not None and firing_due is not None:
            return Expiration(
                order_id, from_ms(float(firing_due)), ExpirationState.FIRING, from_ms(lease_until)
            )
        return None

    async def next_due(self) -> datetime | None:
        """The earliest moment something may become claimable: a due time or a lease's end."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrange(self.due_key, 0, 0, withscores=True)
            pipe.zrange(self.firing_key, 0, 0, withscores=True)
            first_due, first_lease = await pipe.execute()
        scores = [score for _, score in (*first_due, *first_lease)]
        return from_ms(min(scores)) if scores else None

    async def _settle(self, order_ids: list[str], now: datetime) -> None:
        if not order_ids:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.due_key, *order_ids)
            pipe.zrem(self.firing_key, *order_ids)
            pipe.hdel(self.firing_due_key, *order_ids)
            pipe.zadd(self.settled_key, dict.fromkeys(order_ids, to_ms(now)))
            pipe.hdel(self.trace_key, *order_ids)
            await pipe.execute()
