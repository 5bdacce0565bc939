"""Revocations pushed to the subscriptions they end: a signed-out token or a password change ends
every open subscription holding such a token within moments, not at its next poll.

`OpenSessions` is who in this process holds a subscription open with which token: a stream
registers its claims and how to wake it. `RevocationListener` is this process's one subscriber
to Redis' `<ns>:revocations` channel, where auth announces each revocation as it writes it
(common.revocations): it wakes the streams whose token an announcement names, and each woken
stream checks its token as it would for any push (the verifier and Redis decide, not the
message), so it ends with the same UNAUTHENTICATED.

Redis pub/sub keeps nothing for a listener that is away: after every (re)subscription, once
Redis has confirmed it, every open stream is woken to check its token, since an announcement may
have been missed meanwhile. The poll (SUBSCRIPTION_TOKEN_RECHECK_SECONDS) stays as the fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from common.jwt import Claims
from common.revocations import Announced, channel

log = logging.getLogger(__name__)

# How long one read of the channel waits for a message (the loop is also how a stop is seen).
READ_SECONDS = 1.0
# Between two attempts to subscribe while Redis does not answer.
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0)


@dataclass(eq=False)
class _Open:
    claims: Claims
    wake: Callable[[], None]


@dataclass
class OpenSessions:
    _by_user: dict[str, set[_Open]] = field(default_factory=dict)

    @contextlib.contextmanager
    def holding(self, claims: Claims, wake: Callable[[], None]) -> Iterator[None]:
        """While inside, `wake` is called when a revocation may concern `claims`."""
        entry = _Open(claims, wake)
        self._by_user.setdefault(claims.sub, set()).add(entry)
        try:
            yield
        finally:
            entries = self._by_user.get(claims.sub)
            if entries is not None:
                entries.discard(entry)
                if not entries:
                    del self._by_user[claims.sub]

    def revoked(self, announced: Announced) -> int:
        """Wakes the streams whose token `announced` refuses; how many."""
        woken = [e for e in self._by_user.get(announced.user_id, ()) if announced.refuses(e.claims)]
        for entry in woken:
            entry.wake()
        return len(woken)

    def recheck_all(self) -> int:
        """Wakes every stream (announcements may have been missed); how many."""
        entries = [entry for entries in self._by_user.values() for entry in entries]
        for entry in entries:
            entry.wake()
        return len(entries)

    def count(self) -> int:
        return sum(len(entries) for entries in self._by_user.values())


class RevocationListener:
    """Started and stopped with the app, on its event loop; on a Redis client of its own (a
    subscribed connection serves nothing else)."""

    def __init__(self, redis: aioredis.Redis, namespace: str, sessions: OpenSessions) -> None:
        self.redis = redis
        self.channel = channel(namespace)
        self.sessions = sessions
        self.subscribed = asyncio.Event()  # set while subscribed (tests and probes may wait)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="revocation listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.redis.aclose()

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down or restarted: subscribe again
                if self.subscribed.is_set():
                    failures = 0
                    self.subscribed.clear()
                wait = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                if failures == 0:
                    log.warning(
                        "revocation listener lost Redis, subscribing again",
                        extra={"error": f"{type(exc).__name__}: {exc}", "retry_in_s": wait},
                    )
                failures += 1
                await asyncio.sleep(wait)

    async def _listen(self) -> None:
        async with self.redis.pubsub() as pubsub:
            await pubsub.subscribe(self.channel)
            while True:
                message = await pubsub.get_message(timeout=READ_SECONDS)
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    # Confirmed: the first time, or after redis-py reconnected by itself (it
                    # subscribes again on a new connection). Anything announced from here on
                    # arrives; what was announced before, each stream checks for itself.
                    self.subscribed.set()
                    rechecked = self.sessions.recheck_all()
                    log.info("revocation listener subscribed", extra={"rechecked": rechecked})
                elif message["type"] == "message":
                    announced = Announced.parse(message["data"])
                    if announced is not None:
                        self.sessions.revoked(announced)
