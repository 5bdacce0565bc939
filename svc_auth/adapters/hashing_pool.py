"""Password hashing with a bound: at most `concurrency` hashes at once, each on a thread of a pool
of that size (off the event loop; argon2 and scrypt release the GIL), a bounded queue before
them, and a refusal (`Overloaded`, RESOURCE_EXHAUSTED) beyond it.

A hash holds its memory (argon2id 19 MiB, legacy scrypt 32 MiB) while it runs, so the slots
bound the memory hashing can take: a flood of sign-ins waits or is refused, and never takes the
process past its memory limit. A slot is freed when the hash is done, not when its caller stops
waiting (a cancelled call's hash still runs to its end on its thread), so the bound holds for
callers that give up too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from common.errors import Overloaded

T = TypeVar("T")

BUSY = "Too many sign-ins at once, try again shortly"


class HashingPool:
    def __init__(self, concurrency: int, max_waiting: int, max_wait_seconds: float) -> None:
        if concurrency < 1 or max_waiting < 0 or max_wait_seconds <= 0:
            raise ValueError("a hashing pool needs a slot, a queue of 0 or more and a wait")
        self.concurrency = concurrency
        self.max_waiting = max_waiting
        self.max_wait_seconds = max_wait_seconds
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix="password-hash")
        self._slots = asyncio.Semaphore(concurrency)
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Calls queued for a slot now."""
        return self._waiting

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """`work(*args)` on a hashing thread once a slot is free; `Overloaded` when the queue is
        full or the wait for a slot passes `max_wait_seconds`."""
        await self._acquire()
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor, work, *args)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        # Shielded: a caller that is cancelled stops waiting, but the slot stays taken until the
        # thread has finished (its memory is in use until then).
        return await asyncio.shield(future)

    async def _acquire(self) -> None:
        if self._slots.locked() and self._waiting >= self.max_waiting:
            raise Overloaded(BUSY)
        self._waiting += 1
        try:
            async with asyncio.timeout(self.max_wait_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise Overloaded(BUSY) from None
        finally:
            self._waiting -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
