"""Password hashing for tests: auth's real argon2id hasher and bounded pool, with parameters
cheap enough for a test suite, and a variant that counts (and can hold) the hashes running."""

from __future__ import annotations

import asyncio
import threading

import argon2

from svc_auth.adapters.hashing_pool import HashingPool
from svc_auth.adapters.passwords import Argon2Passwords

CHEAP_ARGON2 = argon2.Parameters(
    type=argon2.Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=1,
    memory_cost=64,  # KiB
    parallelism=1,
)


def cheap_passwords(
    concurrency: int = 4, max_waiting: int = 64, max_wait_seconds: float = 30
) -> Argon2Passwords:
    return Argon2Passwords(HashingPool(concurrency, max_waiting, max_wait_seconds), CHEAP_ARGON2)


class CountedPasswords(Argon2Passwords):
    """Counts the hashes and verifications running at once on the pool's threads; while `held`,
    each one waits for `release` before it finishes."""

    def __init__(self, pool: HashingPool, *, held: bool = False) -> None:
        super().__init__(pool, CHEAP_ARGON2)
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.verifications = 0  # every password checked (against a hash), ever
        self.release = threading.Event()
        if not held:
            self.release.set()

    def _counted(self, work, *args):
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            self.release.wait(60)
            return work(*args)
        finally:
            with self._lock:
                self.running -= 1

    def _hash(self, password: str) -> str:
        return self._counted(super()._hash, password)

    def _verify(self, password: str, encoded: str) -> bool:
        with self._lock:
            self.verifications += 1
        return self._counted(super()._verify, password, encoded)

    async def until(self, *, running: int, waiting: int = 0) -> None:
        """Until `running` hashes run and `waiting` calls queue for a slot (bounded)."""
        async with asyncio.timeout(20):
            while True:
                if self.running >= running and self.pool.waiting >= waiting:
                    return
                await asyncio.sleep(0.01)
