"""Open WebSocket connections per user and per client address, counted in Redis, so the bound
holds over every worker and replica (SUBSCRIPTION_CONNECTIONS_PER_USER / _PER_ADDRESS).

Each key is a sorted set of the connections holding a slot, scored by when the slot lapses: a
process renews its slots every `lease_seconds / 3` and gives each back when its connection
closes, so the slots of a process that died lapse by themselves within `lease_seconds`. Time is
Redis's own (`TIME`), so the gateways' clocks need not agree.

Fails open, like the rate limits: without Redis a connection is let in uncounted (what one
connection may do is bounded anyway: SUBSCRIPTIONS_PER_CONNECTION, and the query limits).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from common.errors import ErrorCode
from gateway.http_errors import graphql_error
from gateway.rate_limits.client_address import address_key, client_address

log = logging.getLogger(__name__)

# KEYS: the set. ARGV: member, limit, lease ms. 1: claimed; 0: the set is full.
_CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""

# KEYS: the set. ARGV: member, lease ms. Renews a slot still held (not one that lapsed).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 0
"""

LEASE_SECONDS = 60.0


@dataclass(frozen=True)
class Slot:
    key: str
    member: str


class OpenConnections:
    def __init__(
        self, redis: aioredis.Redis, namespace: str, lease_seconds: float = LEASE_SECONDS
    ) -> None:
        self.redis = redis
        self.prefix = f"{namespace}:ws-connections"
        self.lease_ms = int(lease_seconds * 1000)
        self._claim = redis.register_script(_CLAIM)
        self._renew = redis.register_script(_RENEW)
        self._held: set[Slot] = set()
        self._renewing: asyncio.Task[None] | None = None

    async def claim(self, kind: str, key: str, limit: int) -> Slot | None:
        """A slot among `limit` for `key` (kind: "user" or "address"); None when all are
        taken. No limit (0), or no Redis: a slot that counts nowhere."""
        slot = Slot(f"{self.prefix}:{kind}:{key}", uuid.uuid4().hex)
        if limit <= 0:
            return slot
        try:
            claimed = await self._claim(keys=[slot.key], args=[slot.member, limit, self.lease_ms])
        except RedisError as exc:
            log.warning("connection limits: Redis did not answer", extra={"error": repr(exc)})
            return slot
        if not claimed:
            return None
        self._held.add(slot)
        self._renew_soon()
        return slot

    async def release(self, slot: Slot | None) -> None:
        if slot is None or slot not in self._held:
            return
        self._held.discard(slot)
        with contextlib.suppress(RedisError):
            await self.redis.zrem(slot.key, slot.member)

    def _renew_soon(self) -> None:
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.get_running_loop().create_task(self._renew_while_held())

    async def _renew_while_held(self) -> None:
        while self._held:
            await asyncio.sleep(self.lease_ms / 3000)
            pipe = self.redis.pipeline(transaction=False)
            for slot in list(self._held):
                await self._renew(keys=[slot.key], args=[slot.member, self.lease_ms], client=pipe)
            try:
                await pipe.execute()
            except RedisError as exc:  # the next round tries again; a lapsed slot frees a place
                log.warning("connection limits: cannot renew", extra={"error": repr(exc)})

    async def close(self) -> None:
        if self._renewing is not None:
            self._renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewing
        await self.redis.aclose()


class ConnectionLimits:
    """ASGI middleware for /graphql: a WebSocket handshake takes a slot of its client address
    for as long as the connection lasts; over SUBSCRIPTION_CONNECTIONS_PER_ADDRESS it is refused
    with 429 before it is accepted. HTTP passes through."""

    def __init__(self, app: ASGIApp, connections: OpenConnections, per_address: int) -> None:
        self.app = app
        self.connections = connections
        self.per_address = per_address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        address = address_key(client_address(HTTPConnection(scope)))
        slot = await self.connections.claim("address", address, self.per_address)
        if slot is None:
            message = "Too many open connections from this address."
            error = graphql_error(message, ErrorCode.RATE_LIMITED.value)
            response = JSONResponse({"errors": [error]}, status_code=429)
            await WebSocket(scope, receive, send).send_denial_response(response)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            await self.connections.release(slot)
