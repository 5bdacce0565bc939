"""The outbox relay: publishes committed events and marks them sent.

It wakes when a unit of work commits and also polls, so events left unsent by a crash between
commit and publish, or by a broker outage, go out once things recover, with no one stepping in.

Every replica of a service runs a relay on the same outbox, so each document is claimed by one
relay before it is published: it carries the relay's id and a lease (`claimed_until`), and other
relays skip it until that lease expires. A unit of work claims its events for its own process's
relay in the committing transaction, then wakes it with their ids: the relay publishes them at
once, with no claim to write (one read, one publish, one write per batch). Anything else (events
of a relay that died, or that failed to publish and let go, or written without a relay) is
claimed by compare-and-set once its lease is over, by whichever relay polls first. A relay that
dies holding a claim thus delays its events by the lease at most. One that dies between publish
and mark (or stalls past its lease) publishes again: consumers drop the duplicate by id.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from common.clock import Clock, SystemClock
from common.mongo import UNCLAIMED

log = logging.getLogger(__name__)

# Publishes outbox documents; returns once the broker confirmed all (common.bus.RabbitPublisher).
Publish = Callable[[list[dict[str, Any]]], Awaitable[None]]


class OutboxRelay:
    def __init__(
        self,
        outbox: AsyncCollection,
        publish: Publish,
        poll_seconds: float = 1.0,
        batch_size: int = 100,
        max_backoff_seconds: float = 2.0,
        claim_seconds: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        self.outbox = outbox
        self.publish = publish
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.max_backoff = max_backoff_seconds
        self.lease = timedelta(seconds=claim_seconds)
        self.clock = clock or SystemClock()
        # One id per relay object (per process): a restarted process is another claimant.
        self.relay_id = uuid.uuid4().hex
        self._wake = asyncio.Event()
        # Ids of events committed in this process and claimed for this relay, oldest first.
        self._own: dict[str, None] = {}
        # Marking a batch sent overlaps publishing the next one; at most one mark in flight.
        self._marking: asyncio.Task[None] | None = None

    def claim_fields(self, now: datetime) -> dict[str, Any]:
        """What a unit of work writes on the events it commits, so they are this relay's."""
        return {"claimed_by": self.relay_id, "claimed_until": now + self.lease}

    def wake(self, event_ids: Sequence[str] = ()) -> None:
        """Called after a commit that wrote events; safe from the event loop's thread only."""
        self._own.update(dict.fromkeys(event_ids))
        self._wake.set()

    async def _take_own_batch(self) -> list[dict[str, Any]]:
        """The next batch of events committed here, oldest first, that are still this relay's
        with time to spare (an event whose lease is nearly over is left to the claim path, so
        no other relay can take it while it is being published here)."""
        ids = list(itertools.islice(self._own, self.batch_size))
        safe_until = self.clock.now() + self.lease / 2
        docs = await self.outbox.find({"_id": {"$in": ids}}).sort("order_key", 1).to_list()
        for event_id in ids:  # once read: if publishing fails, the claim path takes them up
            del self._own[event_id]
        return [
            d
            for d in docs
            if d["sent_at"] is None
            and d.get("claimed_by") == self.relay_id
            and d["claimed_until"] > safe_until
        ]

    async def _claim_batch(self) -> tuple[list[dict[str, Any]], bool]:
        """Claims up to a batch of the oldest claimable documents; returns those this relay won,
        oldest first, and whether more may be left to claim."""
        now = self.clock.now()
        candidates = (
            await self.outbox.find({"sent_at": None, "claimed_until": {"$lte": now}})
            .sort("order_key", 1)
            .limit(self.batch_size)
            .to_list()
        )
        more = len(candidates) == self.batch_size
        # Compare-and-set on the lease each candidate was read with: a document another relay
        # claimed meanwhile has a new `claimed_until` and no longer matches, so of relays
        # racing for the same candidates each wins some, none the same one. (Equalities and
        # one `$in`: a filter SecantusDB serves from the (sent_at, claimed_until, _id) index.)
        by_lease: dict[Any, list[Any]] = {}
        for doc in candidates:
            by_lease.setdefault(doc["claimed_until"], []).append(doc["_id"])
        won = 0
        for lease, ids in by_lease.items():
            claim = await self.outbox.update_many(
                {"sent_at": None, "claimed_until": lease, "_id": {"$in": ids}},
                {"$set": {"claimed_by": self.relay_id, "claimed_until": now + self.lease}},
            )
            won += claim.matched_count
        if won == len(candidates):  # the common case: nobody raced us
            return candidates, more
        ids = [doc["_id"] for doc in candidates]
        mine = await self.outbox.find({"_id": {"$in": ids}}).sort("order_key", 1).to_list()
        return [d for d in mine if d.get("claimed_by") == self.relay_id and not d["sent_at"]], more

    async def adopt_unclaimed(self) -> None:
        """Makes claimable the documents written without a `claimed_until` (by a replica of the
        previous version, during a rolling update), which the claim query would never see."""
        await self.outbox.update_many(
            {"sent_at": None, "claimed_until": None}, {"$set": {"claimed_until": UNCLAIMED}}
        )

    async def _release(self, docs: list[dict[str, Any]]) -> None:
        """Lets any relay (this one included) take a batch this one could not publish, without
        waiting for the lease; if the database is down too, the lease expires on its own."""
        try:
            await self.outbox.update_many(
                {"_id": {"$in": [d["_id"] for d in docs]}, "claimed_by": self.relay_id},
                {"$set": {"claimed_until": UNCLAIMED}},
            )
        except Exception as exc:
            log.debug("could not release an outbox claim", extra={"error": str(exc)})

    async def publish_pending(self) -> int:
        """Publishes everything unsent that no other relay holds, oldest first; returns how many
        went out."""
        sent = 0
        try:
            while self._own:
                docs = await self._take_own_batch()
                if docs:
                    await self._publish_and_mark(docs)
                    sent += len(docs)
            while True:
                docs, more = await self._claim_batch()
                if docs:
                    await self._publish_and_mark(docs)
                    sent += len(docs)
                elif more:
                    continue  # other relays won every candidate: look for the next ones
                if not more:
                    return sent
        finally:
            await self._marked()

    async def _marked(self) -> None:
        """Until the batch being marked sent is; raises what marking it raised."""
        marking, self._marking = self._marking, None
        if marking is not None:
            await asyncio.shield(marking)  # a stopping relay still finishes the write

    async def _mark_sent(self, docs: list[dict[str, Any]]) -> None:
        # By id alone (an index lookup): if this relay's lease ran out mid-publish and
        # another took the batch, that one publishes it too, and marking it now is harmless.
        await self.outbox.update_many(
            {"_id": {"$in": [d["_id"] for d in docs]}},
            {"$set": {"sent_at": self.clock.now()}},
        )

    async def _publish_and_mark(self, docs: list[dict[str, Any]]) -> None:
        try:
            await self.publish(docs)
        except asyncio.CancelledError:
            # Stopping (the last pass of ServiceProcess.stop comes next): hand the batch
            # back. Shielded, so the release itself is not cancelled halfway.
            await asyncio.shield(self._release(docs))
            raise
        except Exception:
            await self._release(docs)
            raise
        await self._marked()
        self._marking = asyncio.ensure_future(self._mark_sent(docs))

    async def run(self) -> None:
        backoff = self.poll_seconds
        woken = False
        while True:
            self._wake.clear()  # before publishing, so a commit made meanwhile is not missed
            try:
                if not woken:  # on the poll only: a commit's wake-up goes straight to publishing
                    await self.adopt_unclaimed()
                await self.publish_pending()
                backoff = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database down: keep the events, try again
                log.warning("outbox relay could not publish, will retry", extra={"error": str(exc)})
                backoff = min(self.max_backoff, backoff * 2)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
                woken = True
            except TimeoutError:
                woken = False
