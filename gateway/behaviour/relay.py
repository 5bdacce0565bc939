"""Publishing the behaviour events the gateway accepted into its Redis stream: one relay in every
gateway process, all in one consumer group, so each entry is handed to one of them.

An entry is deleted only after RabbitMQ confirmed it (publisher confirms), so it is published at
least once whatever dies when:
- the relay fails to publish (RabbitMQ down): the entries stay pending for it, and it retries
  them, oldest first, before it reads new ones;
- the process dies with entries in hand: they stay pending under its name, and any other relay
  takes them over (XAUTOCLAIM) once they have been idle for OUTBOX_CLAIM_SECONDS, the same lease
  as the services' outbox documents;
- it dies between the confirm and the delete: the entry is published again by whoever takes it
  over; consumers drop the duplicate by its event id, as they drop the outbox's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from gateway.behaviour.stream import GROUP, UnreadableEntry, doc_of, stream_key

log = logging.getLogger(__name__)

Publish = Callable[[list[dict[str, Any]]], Awaitable[None]]

BATCH = 100
# How long one read waits for new entries (within the Redis client's socket timeout).
BLOCK_MS = 500
# Consumers of the group that hold nothing and were last seen this long ago are forgotten
# (each gateway process that ever ran left one).
FORGET_CONSUMERS_AFTER_MS = 3_600_000
BACKOFF_CAP_SECONDS = 2.0
STOP_PASS_SECONDS = 2.0


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class BehaviourRelay:
    def __init__(
        self,
        redis: aioredis.Redis,
        namespace: str,
        publish: Publish,
        *,
        claim_seconds: float = 10.0,
        name: str | None = None,
    ) -> None:
        self.redis = redis
        self.stream = stream_key(namespace)
        self.publish = publish
        self.claim_ms = int(claim_seconds * 1000)
        self.name = name or consumer_name()
        self._task: asyncio.Task[None] | None = None
        # Entries were handed to this relay and not published yet: read them again first.
        self._own_pending = True
        self._group_ready = False

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="behaviour-relay")

    async def stop(self) -> None:
        if self._task is None:
            return
        # Cancel until it takes: redis-py's use of asyncio.wait_for can swallow a cancellation.
        while not self._task.done():
            self._task.cancel()
            await asyncio.wait([self._task], timeout=0.5)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            self._task.result()
        self._task = None
        # One last pass, so what this process's last requests recorded leaves now rather than
        # when another relay reads it (nothing is lost if it does not finish).
        with contextlib.suppress(Exception):
            async with asyncio.timeout(STOP_PASS_SECONDS):
                while await self.relay_once():
                    pass

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = 0.1
        next_takeover = 0.0
        failing = False
        while True:
            try:
                if loop.time() >= next_takeover:
                    await self.take_over()
                    next_takeover = loop.time() + self.claim_ms / 2000
                await self.relay_once(block_ms=BLOCK_MS)
                backoff = 0.1
                if failing:
                    log.info("behaviour relay publishes again")
                    failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._own_pending = True
                if isinstance(exc, ResponseError) and "NOGROUP" in str(exc):
                    self._group_ready = False  # Redis lost its data: the group is made again
                # Once per outage, not every retry.
                log.log(
                    logging.DEBUG if failing else logging.WARNING,
                    "behaviour relay cannot publish, will retry",
                    extra={"error": repr(exc), "retry_in_s": backoff},
                )
                failing = True
                await asyncio.sleep(backoff)
                backoff = min(BACKOFF_CAP_SECONDS, backoff * 2)

    # -- the steps (each safe to repeat) -----------------------------------------------------

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            # From the stream's start: entries recorded before any relay ran are published too.
            await self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def relay_once(self, block_ms: int | None = None) -> int:
        """Publishes this relay's pending entries if it has any, else new ones (waiting up to
        `block_ms` for some); how many were published."""
        await self._ensure_group()
        if self._own_pending:
            entries = await self._read("0", None)
            if entries:
                return await self._publish(entries)
            self._own_pending = False
        return await self._publish(await self._read(">", block_ms))

    async def take_over(self) -> int:
        """Publishes entries another relay was handed and left idle past the lease (it died, or
        cannot publish); forgets long-gone relays. How many were published."""
        await self._ensure_group()
        published, start = 0, "0-0"
        while True:
            reply = await self.redis.xautoclaim(
                self.stream, GROUP, self.name, self.claim_ms, start_id=start, count=BATCH
            )
            start, claimed = reply[0], reply[1]
            if claimed:
                log.info(
                    "behaviour relay took over entries another relay left",
                    extra={"entries": len(claimed), "relay": self.name},
                )
                self._own_pending = True
                published += await self._publish(claimed)
            if start in (b"0-0", "0-0"):
                break
        await self._forget_gone_relays()
        return published

    async def _read(self, start: str, block_ms: int | None) -> list[tuple[bytes, Any]]:
        reply = await self.redis.xreadgroup(
            GROUP, self.name, {self.stream: start}, count=BATCH, block=block_ms
        )
        return [entry for _stream, entries in reply or () for entry in entries]

    async def _publish(self, entries: list[tuple[bytes, Any]]) -> int:
        if not entries:
            return 0
        docs, ids = [], []
        for entry_id, fields in entries:
            ids.append(entry_id)
            try:
                docs.append(doc_of(fields))
            except UnreadableEntry as exc:
                # Nothing can publish it: say so and let it go, rather than block the stream.
                log.error(
                    "dropping an unreadable behaviour entry",
                    extra={"entry": entry_id, "error": str(exc)},
                )
        if docs:
            try:
                await self.publish(docs)  # raises unless RabbitMQ confirmed every one
            except BaseException:
                self._own_pending = True  # still ours, pending: the first to try next time
                raise
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, GROUP, *ids)
            pipe.xdel(self.stream, *ids)
            await pipe.execute()
        return len(docs)

    async def _forget_gone_relays(self) -> None:
        try:
            consumers = await self.redis.xinfo_consumers(self.stream, GROUP)
        except RedisError:
            return
        for consumer in consumers:
            name = consumer.get("name")
            name = name.decode() if isinstance(name, bytes) else name
            if (
                name != self.name
                and consumer.get("pending", 0) == 0
                and consumer.get("idle", 0) > FORGET_CONSUMERS_AFTER_MS
            ):
                await self.redis.xgroup_delconsumer(self.stream, GROUP, name)
