"""How late orders expire while the run goes on: the orders database is polled for open orders,
and each order's last sighting while open, past its expiresAt, is how late it was at least."""

from __future__ import annotations

import contextlib
import threading
import time

import pymongo

from common.mongo import database_name
from tests.chaos.infra import ChaosStack
from tests.chaos.observe import OPEN


class ExpiryWatch:
    def __init__(self, stack: ChaosStack, interval: float = 0.5) -> None:
        self.client = pymongo.MongoClient(stack.mongo_url, tz_aware=True)
        self.orders = self.client[database_name(stack.namespace, "orders")].orders
        self.interval = interval
        self.last_open: dict[str, tuple[float, float]] = {}  # id -> (expiresAt, last seen open)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.client.close()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(pymongo.errors.PyMongoError):
                now = time.time()
                for doc in self.orders.find({"status": {"$in": OPEN}}, {"expires_at": 1}):
                    self.last_open[doc["_id"]] = (doc["expires_at"].timestamp(), now)

    def lateness(self) -> list[tuple[float, float]]:
        """(expiresAt, seconds it was still seen open after it) for every order seen late."""
        return [(due, seen - due) for due, seen in list(self.last_open.values()) if seen > due]
