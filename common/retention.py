"""Forgetting what the event backbone no longer needs: outbox documents sent, and ids of events
processed, more than `EVENT_RETENTION_HOURS` ago.

A processed-event id is what makes a redelivered event change nothing, so it must outlive every
way a copy can still arrive: broker redelivery and retry queues (minutes), a relay publishing
again after its lease ran out (seconds), an operator replaying dead letters (however long the
team takes to replay). Unsent outbox documents are never removed, however old.

A periodic purge rather than TTL indexes: it reads the service's clock (tests move it instead of
waiting for a server's TTL monitor), follows the setting at each start without a collMod, and
behaves the same on SecantusDB and MongoDB. Every replica purges; deletes by date are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase

from common.clock import Clock
from common.mongo import INBOX, OUTBOX

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    sent_events: int
    processed_ids: int


class EventRetention:
    def __init__(
        self,
        db: AsyncDatabase,
        retention: timedelta,
        clock: Clock,
        interval_seconds: float = 600.0,
    ) -> None:
        self.db = db
        self.retention = retention
        self.clock = clock
        self.interval_seconds = interval_seconds

    async def purge(self) -> Purged:
        cutoff = self.clock.now() - self.retention
        # `$lt` on a date never matches `sent_at: None`: unsent events stay whatever their age.
        sent = await self.db[OUTBOX].delete_many({"sent_at": {"$lt": cutoff}})
        processed = await self.db[INBOX].delete_many({"at": {"$lt": cutoff}})
        return Purged(sent.deleted_count, processed.deleted_count)

    async def run(self) -> None:
        while True:
            try:
                purged = await self.purge()
                if purged.sent_events or purged.processed_ids:
                    log.info(
                        "purged old events",
                        extra={"sent": purged.sent_events, "processed": purged.processed_ids},
                    )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is down: the next pass catches up
                log.warning("event retention purge failed", extra={"error": str(exc)})
            await asyncio.sleep(self.interval_seconds)
