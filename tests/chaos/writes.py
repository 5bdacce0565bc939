"""Acknowledged writes, straight to the database, all through the run: a document is counted
once the database has acknowledged its insert (write concern w:1, as the services write), in a
transaction and outside one in turn. After the run every one of them must still be there,
whatever was killed meanwhile (the database itself above all). A write whose answer was lost
with the connection is not counted: nobody was told it happened."""

from __future__ import annotations

import itertools
import threading
import time

import pymongo
import pymongo.errors

from common.mongo import database_name
from tests.chaos.invariants import Violation

COLLECTION = "acknowledged"


class AcknowledgedWrites:
    """`writers` threads, each writing one document every `interval` seconds (0: as fast as the
    database answers). Without sync-on-commit a SIGKILL lost about 3 acknowledged writes per kill
    at one writer every 10 ms, 11-19 at four writers flat out (tests/e2e/test_run_own_stack.py)."""

    def __init__(
        self, mongo_url: str, namespace: str, writers: int = 1, interval: float = 0.01
    ) -> None:
        self.client = pymongo.MongoClient(
            mongo_url, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000
        )
        self.collection = self.client[database_name(namespace, "chaos")][COLLECTION]
        self.interval = interval
        self.acknowledged: dict[int, float] = {}  # number -> wall time of the acknowledgement
        self._numbers = itertools.count(1)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, daemon=True, name=f"writes-{n}")
            for n in range(writers)
        ]

    def start(self) -> None:
        self.collection.insert_one({"_id": 0})  # the collection exists before the faults
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def since(self, when: float) -> int:
        """How many were acknowledged after `when` (wall time)."""
        return sum(at > when for at in list(self.acknowledged.values()))

    def _write(self, number: int) -> None:
        if number % 2:
            self.collection.insert_one({"_id": number})
            return
        with self.client.start_session() as session:
            session.with_transaction(
                lambda s: self.collection.insert_one({"_id": number}, session=s)
            )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            number = next(self._numbers)  # one counter for every writer (atomic in CPython)
            try:
                self._write(number)
            except pymongo.errors.PyMongoError:
                continue  # down, or the answer was lost: not acknowledged
            self.acknowledged[number] = time.time()

    def lost(self) -> list[Violation]:
        """One violation per acknowledged write that is gone."""
        present = {doc["_id"] for doc in self.collection.find({}, {"_id": 1})}
        self.client.close()
        return [
            Violation("lost write", f"acknowledged insert {n} of {COLLECTION} is gone", at)
            for n, at in self.acknowledged.items()
            if n not in present
        ]
