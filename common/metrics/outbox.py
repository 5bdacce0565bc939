"""The outbox's backlog, read from MongoDB when Prometheus scrapes: how many events are committed
and not yet published, and how old the oldest of them is. Two index reads on the (sent_at,
order_key) index every scrape interval, on the service's own event loop and Mongo client, within
a timeout: a database that does not answer in time leaves the two series out of that scrape
(absent, not a stale value) and delays nothing else.

Every replica of a service reads the same outbox, so each reports the service's whole backlog:
take `max by (service)`, not the sum.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pymongo.asynchronous.collection import AsyncCollection

from common.clock import Clock
from common.metrics.series import OUTBOX_OLDEST_AGE, OUTBOX_UNSENT

log = logging.getLogger(__name__)

UNSENT_HELP = "Events committed to the outbox and not yet published (per service, all replicas)"
AGE_HELP = "Age of the oldest event not yet published; 0 when none is waiting"


@dataclass(frozen=True)
class _Outbox:
    service: str
    collection: AsyncCollection
    loop: asyncio.AbstractEventLoop
    clock: Clock


async def read_backlog(outbox: AsyncCollection) -> tuple[int, datetime | None]:
    """(unsent events, when the oldest of them was committed)."""
    unsent = await outbox.count_documents({"sent_at": None})
    oldest = None
    if unsent:
        first = (
            await outbox.find({"sent_at": None}, {"created_at": 1})
            .sort("order_key", 1)
            .limit(1)
            .to_list()
        )
        oldest = first[0].get("created_at") if first else None
    return unsent, oldest


class OutboxBacklog(Collector):
    def __init__(self, timeout_seconds: float = 2.0) -> None:
        self.timeout = timeout_seconds
        self._outboxes: dict[object, _Outbox] = {}
        self._lock = threading.Lock()

    def watch(
        self,
        service: str,
        outbox: AsyncCollection,
        loop: asyncio.AbstractEventLoop,
        clock: Clock,
    ) -> object:
        """Reports `service`'s outbox from now on; returns the token `forget` takes."""
        token = object()
        with self._lock:
            self._outboxes[token] = _Outbox(service, outbox, loop, clock)
        return token

    def forget(self, token: object) -> None:
        with self._lock:
            self._outboxes.pop(token, None)

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(OUTBOX_UNSENT, UNSENT_HELP, labels=["service"])
        yield GaugeMetricFamily(OUTBOX_OLDEST_AGE, AGE_HELP, labels=["service"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        unsent = GaugeMetricFamily(OUTBOX_UNSENT, UNSENT_HELP, labels=["service"])
        age = GaugeMetricFamily(OUTBOX_OLDEST_AGE, AGE_HELP, labels=["service"])
        with self._lock:
            outboxes = list(self._outboxes.values())
        reported: set[str] = set()
        for outbox in outboxes:
            if outbox.service in reported:
                continue
            read = self._read(outbox)
            if read is None:
                continue
            count, oldest = read
            reported.add(outbox.service)
            unsent.add_metric([outbox.service], count)
            waited = 0.0
            if oldest is not None:
                if oldest.tzinfo is None:  # as pymongo returns dates unless told otherwise
                    oldest = oldest.replace(tzinfo=UTC)
                waited = max(0.0, (outbox.clock.now() - oldest).total_seconds())
            age.add_metric([outbox.service], waited)
        yield unsent
        yield age

    def _read(self, outbox: _Outbox) -> tuple[int, datetime | None] | None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is outbox.loop or outbox.loop.is_closed():
            return None  # waiting here would block the very loop that has to answer
        future = asyncio.run_coroutine_threadsafe(read_backlog(outbox.collection), outbox.loop)
        try:
            return future.result(self.timeout)
        except Exception as exc:
            future.cancel()
            log.debug(
                "outbox backlog not read for this scrape",
                extra={"service": outbox.service, "error": repr(exc)},
            )
            return None


OUTBOX_BACKLOG = OutboxBacklog()
REGISTRY.register(OUTBOX_BACKLOG)
