"""Revoked sessions, as every token verifier reads them: a cache in Redis of what auth keeps in
its database (svc_auth.adapters.revocation_store), the authority.

Two kinds of revocation, each kept until the last token it could refuse would have expired:
- a token signed out: `<ns>:revoked-jti:<jti>`;
- every session of a user ended (a password change): `<ns>:sessions-floor:<user id>` holds the
  user's session generation, and a token whose `gen` claim is below it is refused.

Redis may lose its data (restarted empty, a failover to a replica that had not caught up). So the
cache says whether it is whole: `<ns>:revocations:loaded` is set by auth only after it copied
every live revocation from its database into this Redis. A verifier that finds it missing cannot
tell a revoked token from a good one and refuses to decide (`Unavailable`), until auth, which
looks every second, has loaded the cache again. Auth writes each new revocation here as well,
after its database, so a loaded cache stays whole.

Each revocation written is also published on the channel `<ns>:revocations` (`announced`), in
the same round trip, so that a gateway ends the subscriptions it holds open with that token at
once rather than at its next poll. A revocation whose first write failed is published when auth's
sync loop writes it again. Pub/sub keeps nothing for a listener that was away: a gateway that
(re)subscribes checks every open subscription's token itself (gateway/subscriptions/revocations.py).

Redis must keep these keys until they expire: run it with `maxmemory-policy noeviction` (its
default) so that memory pressure can never drop a revocation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import redis.asyncio as aioredis

from common.clock import Clock, SystemClock
from common.errors import Unavailable
from common.jwt import Claims
from common.redis_client import OUTAGES as REDIS_OUTAGES

# KEYS: the floor. ARGV: generation, seconds to keep it. Never lowers a floor: two password
# changes whose writes reach Redis out of order leave the higher generation.
_RAISE_FLOOR = """
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return 0
"""

# KEYS: loading, loaded. ARGV: this load's id. The cache is declared whole only if the `loading`
# mark its loader set before reading the database is still there: a Redis that restarted (empty)
# meanwhile has lost it, and that load counts for nothing.
_FINISH_LOAD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""

LOADING_MARK_SECONDS = 300


def loaded_key(namespace: str) -> str:
    """Set once Redis holds every live revocation; gone when Redis lost its data."""
    return f"{namespace}:revocations:loaded"


def channel(namespace: str) -> str:
    """Where each revocation written is announced."""
    return f"{namespace}:revocations"


@dataclass(frozen=True)
class TokenRevoked:
    """One token signed out."""

    jti: str
    user_id: str
    expires_at: int  # the token's `exp`


@dataclass(frozen=True)
class SessionsEnded:
    """Every token of the user with a `gen` below `generation` is refused."""

    user_id: str
    generation: int
    expires_at: int  # when the last token issued before it would have expired


Revocation = TokenRevoked | SessionsEnded


def announcement(revocation: Revocation) -> bytes:
    """What is published on `channel`: who it concerns, not a credential."""
    if isinstance(revocation, TokenRevoked):
        fields: dict[str, object] = {"user": revocation.user_id, "jti": revocation.jti}
    else:
        fields = {"user": revocation.user_id, "generation": revocation.generation}
    return json.dumps(fields).encode()


@dataclass(frozen=True)
class Announced:
    """A revocation as a listener reads it: the user's tokens with this `jti`, or (`jti` None)
    every one of theirs with a `gen` below `generation`."""

    user_id: str
    jti: str | None = None
    generation: int = 0

    @classmethod
    def parse(cls, data: bytes | str) -> Announced | None:
        """None for anything that is not an announcement (the channel is not ours alone)."""
        try:
            fields = json.loads(data)
            user = fields["user"]
            if not isinstance(user, str):
                return None
            if isinstance(fields.get("jti"), str):
                return cls(user, jti=fields["jti"])
            generation = fields["generation"]
            if not isinstance(generation, int) or isinstance(generation, bool):
                return None
            return cls(user, generation=generation)
        except (ValueError, TypeError, KeyError):
            return None

    def refuses(self, claims: Claims) -> bool:
        if claims.sub != self.user_id:
            return False
        return claims.jti == self.jti if self.jti is not None else claims.gen < self.generation


class RevocationCache:
    def __init__(self, redis: aioredis.Redis, namespace: str, clock: Clock | None = None) -> None:
        self.redis = redis
        self.clock = clock or SystemClock()
        self.channel = channel(namespace)
        self._jti_prefix = f"{namespace}:revoked-jti:"
        self._floor_prefix = f"{namespace}:sessions-floor:"
        self.loaded_key = loaded_key(namespace)
        self.loading_key = f"{namespace}:revocations:loading"
        self._raise_floor = redis.register_script(_RAISE_FLOOR)
        self._finish_load = redis.register_script(_FINISH_LOAD)

    # -- read: every verifier ---------------------------------------------------------------

    async def is_revoked(self, claims: Claims) -> bool:
        try:
            loaded, signed_out, floor = await self.redis.mget(
                self.loaded_key, self._jti_prefix + claims.jti, self._floor_prefix + claims.sub
            )
        except REDIS_OUTAGES:
            raise Unavailable("Cannot check the session right now, try again shortly") from None
        if loaded is None:
            # Redis lost its data and auth has not copied the revocations back yet: a revoked
            # token would pass. Refuse to decide rather than let it through or sign anyone out.
            raise Unavailable("Cannot check the session right now, try again shortly")
        return signed_out is not None or (floor is not None and claims.gen < int(floor))

    # -- write: auth only -------------------------------------------------------------------

    async def put(self, revocations: Iterable[Revocation], announced: bool = True) -> None:
        """Writes them, each expiring with the last token it refuses (expired ones are left
        out), and publishes each on `channel` unless not `announced` (a load copies what was
        announced before). Raises the Redis error on an outage: the caller decides what that
        means (written or not, a revocation is announced when it is written)."""
        now = int(self.clock.now().timestamp())
        pipe = self.redis.pipeline(transaction=False)
        written = 0
        for revocation in revocations:
            ttl = revocation.expires_at - now + 1
            if ttl <= 0:
                continue
            if isinstance(revocation, TokenRevoked):
                pipe.set(self._jti_prefix + revocation.jti, b"1", ex=ttl)
            else:
                key = self._floor_prefix + revocation.user_id
                await self._raise_floor(keys=[key], args=[revocation.generation, ttl], client=pipe)
            if announced:
                pipe.publish(self.channel, announcement(revocation))
            written += 1
        if written:
            await pipe.execute()

    async def is_loaded(self) -> bool:
        return bool(await self.redis.exists(self.loaded_key))

    async def begin_load(self, load_id: str) -> None:
        """Marks a load as started; call before reading the revocations to copy."""
        await self.redis.set(self.loading_key, load_id, ex=LOADING_MARK_SECONDS)

    async def finish_load(self, load_id: str) -> bool:
        """Declares the cache whole, unless Redis lost the `loading` mark since `begin_load`
        (then False: load again)."""
        return bool(
            await self._finish_load(keys=[self.loading_key, self.loaded_key], args=[load_id])
        )
