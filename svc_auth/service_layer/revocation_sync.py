"""Keeps the verifiers' Redis cache of revocations (common.revocations) a whole copy of auth's
database, the authority:

- a new revocation is committed to the database first, then written to Redis (`publish`), where
  the write announces it to the gateways holding subscriptions open;
- every second, on every auth replica (`run`): if Redis has lost its `loaded` mark (restarted
  empty, failed over, flushed), every live revocation is copied back and the mark set again;
  revocations whose Redis write failed are written (and so announced) again; once every ten
  minutes the expired ones are deleted from the database.

While the mark is missing, verifiers answer UNAVAILABLE rather than guess; the loop's period is
how long that lasts after Redis comes back (plus the copy: one write per live revocation, i.e.
per sign-out and password change within the last JWT_TTL_SECONDS).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

from common.retries import is_outage
from common.revocations import Revocation, RevocationCache

log = logging.getLogger(__name__)

SYNC_PERIOD_SECONDS = 1.0
PURGE_PERIOD_SECONDS = 600.0


class RevocationStore(Protocol):
    async def live(self) -> list[Revocation]: ...

    async def uncached(self) -> list[Revocation]: ...

    async def mark_cached(self, revocations: Sequence[Revocation]) -> None: ...

    async def purge(self) -> int: ...


class RevocationSync:
    def __init__(
        self,
        cache: RevocationCache,
        store: RevocationStore,
        period_seconds: float = SYNC_PERIOD_SECONDS,
        purge_period_seconds: float = PURGE_PERIOD_SECONDS,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.cache = cache
        self.store = store
        self.period = period_seconds
        self.purge_period = purge_period_seconds
        self.new_id = new_id
        self._purged_at: float | None = None

    async def publish(self, revocations: Sequence[Revocation]) -> bool:
        """Writes committed revocations to Redis. False when Redis cannot take them now: they
        stay marked uncached in the database and the loop writes them when it can."""
        try:
            await self.cache.put(revocations)
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("revocation not cached yet, will retry", extra={"error": repr(exc)})
            return False
        try:
            await self.store.mark_cached(revocations)
        except Exception as exc:  # only costs one more write by the loop
            if not is_outage(exc):
                raise
            log.warning("revocation cached, not marked so", extra={"error": repr(exc)})
        return True

    async def load(self) -> int:
        """Copies every live revocation into Redis and marks the cache whole; 0 if Redis lost
        the copy meanwhile (the next pass loads again)."""
        load_id = self.new_id()
        await self.cache.begin_load(load_id)
        live = await self.store.live()
        # Not announced again: a gateway that missed an announcement (it had lost Redis too)
        # checks its subscriptions when it subscribes again; those never written are written
        # (and announced) by `sync_once` next, being still uncached.
        await self.cache.put(live, announced=False)
        if not await self.cache.finish_load(load_id):
            log.warning("Redis lost the revocations while they were copied; copying again")
            return 0
        log.info("revocations loaded into Redis", extra={"revocations": len(live)})
        return len(live)

    async def sync_once(self) -> None:
        if not await self.cache.is_loaded():
            await self.load()
        pending = await self.store.uncached()
        if pending:
            await self.cache.put(pending)
            await self.store.mark_cached(pending)
        now = time.monotonic()
        if self._purged_at is None or now - self._purged_at >= self.purge_period:
            self._purged_at = now
            purged = await self.store.purge()
            if purged:
                log.info("expired revocations purged", extra={"revocations": purged})

    async def try_sync(self) -> None:
        """One pass; a failure (Redis or the database down) is logged, the next pass catches up.
        Auth runs one before it serves, so that the cache is loaded by the time it is ready."""
        try:
            await self.sync_once()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "could not sync revocations to Redis, will retry",
                extra={"error": f"{type(exc).__name__}: {exc}", "retry_in_s": self.period},
            )

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            await self.try_sync()
