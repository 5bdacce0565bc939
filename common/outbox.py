"""The outbox relay: publishes committed events and marks them sent.

It wakes when a unit of work commits and also polls, so events left unsent by a crash between
commit and publish, or by a broker outage, go out once things recover, with no one stepping in.
A relay that dies between publish and mark publishes again: consumers drop the duplicate by id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

log = logging.getLogger(__name__)

Publish = Callable[[list[dict[str, Any]]], Awaitable[None]]


class OutboxRelay:
    def __init__(
        self,
        outbox: AsyncCollection,
        publish: Publish,
        poll_seconds: float = 1.0,
        batch_size: int = 100,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self.outbox = outbox
        self.publish = publish
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.max_backoff = max_backoff_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit that wrote events; safe from the event loop's thread only."""
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publishes everything unsent, oldest first; returns how many went out."""
        sent = 0
        while True:
            cursor = self.outbox.find({"sent_at": None}).sort("order_key", 1).limit(self.batch_size)
            docs = await cursor.to_list()
            if not docs:
                return sent
            await self.publish(docs)
            await self.outbox.update_many(
                {"_id": {"$in": [d["_id"] for d in docs]}},
                {"$set": {"sent_at": datetime.now(UTC)}},
            )
            sent += len(docs)
            if len(docs) < self.batch_size:
                return sent

    async def run(self) -> None:
        backoff = self.poll_seconds
        while True:
            self._wake.clear()  # before publishing, so a commit made meanwhile is not missed
            try:
                await self.publish_pending()
                backoff = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database down: keep the events, try again
                log.warning("outbox relay could not publish, will retry", extra={"error": str(exc)})
                backoff = min(self.max_backoff, backoff * 2)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            except TimeoutError:
                pass
