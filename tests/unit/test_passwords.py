"""Password hashes (argon2id new, legacy scrypt verified and flagged for rehash) and the bounded
hashing pool they run on: at most N at once, a bounded queue, refusals beyond it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import argon2
import pytest

from common.errors import ErrorCode, Overloaded
from svc_auth.adapters.hashing_pool import HashingPool
from svc_auth.adapters.passwords import ARGON2_PARAMETERS, Argon2Passwords, LegacyScrypt
from svc_auth.config import AuthSettings

# Cheap parameters for most tests; the production ones are checked on their own.
CHEAP = argon2.Parameters(
    type=argon2.Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=1,
    memory_cost=64,
    parallelism=1,
)


def pool(concurrency: int = 2, max_waiting: int = 8, max_wait_seconds: float = 30) -> HashingPool:
    return HashingPool(concurrency, max_waiting, max_wait_seconds)


async def test_new_hashes_are_argon2id_with_the_owasp_parameters() -> None:
    passwords = Argon2Passwords(pool())

    encoded = await passwords.hash("correct horse")

    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert argon2.extract_parameters(encoded) == ARGON2_PARAMETERS
    assert await passwords.verify("correct horse", encoded)
    assert not await passwords.verify("battery staple", encoded)
    assert not passwords.needs_rehash(encoded)


async def test_a_legacy_scrypt_hash_is_verified_and_needs_rehash() -> None:
    passwords = Argon2Passwords(pool(), CHEAP)
    legacy = LegacyScrypt.encode("correct horse", n=2**10)

    assert legacy.startswith("scrypt$1024$8$1$")
    assert await passwords.verify("correct horse", legacy)
    assert not await passwords.verify("battery staple", legacy)
    assert passwords.needs_rehash(legacy)


async def test_an_argon2_hash_with_other_parameters_needs_rehash() -> None:
    weaker = await Argon2Passwords(pool(), CHEAP).hash("correct horse")
    passwords = Argon2Passwords(pool())

    assert await passwords.verify("correct horse", weaker)
    assert passwords.needs_rehash(weaker)


@pytest.mark.parametrize(
    "encoded",
    ["", "garbage", "scrypt$x$8$1$AAAA$AAAA", "scrypt$1024$8", "$argon2id$v=19$m=bad", "md5$abc"],
)
async def test_a_malformed_hash_verifies_nothing(encoded: str) -> None:
    passwords = Argon2Passwords(pool(), CHEAP)
    assert not await passwords.verify("correct horse", encoded)
    assert passwords.needs_rehash(encoded)


def test_the_default_slots_fit_the_memory_limit_with_room_for_the_process() -> None:
    settings = AuthSettings.from_env({})
    largest_hash_mib = max(ARGON2_PARAMETERS.memory_cost / 1024, 32)  # a legacy scrypt: 32 MiB
    process_mib, limit_mib = 100, 384  # k8s/base/auth.yaml: limits.memory 384Mi
    assert settings.password_hashing_concurrency * largest_hash_mib + process_mib < limit_mib


# --- the bound ------------------------------------------------------------------------------------


async def until(condition: Callable[[], bool]) -> None:
    """Until `condition()` holds (the work runs on other threads), within a bounded time."""
    async with asyncio.timeout(10):
        while True:
            if condition():
                return
            await asyncio.sleep(0.005)


class Gate:
    """Hash work that counts how many run at once and can be held until released."""

    def __init__(self, *, held: bool) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.started = 0
        self.release = threading.Event()
        if not held:
            self.release.set()

    def work(self, value: str) -> str:
        with self.lock:
            self.running += 1
            self.started += 1
            self.most = max(self.most, self.running)
        try:
            self.release.wait(30)
            return value
        finally:
            with self.lock:
                self.running -= 1

    async def until_running(self, count: int) -> None:
        await until(lambda: self.running >= count)


async def test_fifty_concurrent_hashes_run_at_most_concurrency_at_once() -> None:
    hashing = pool(concurrency=4, max_waiting=64)
    gate = Gate(held=True)

    calls = [asyncio.create_task(hashing.run(gate.work, f"p{n}")) for n in range(50)]
    await gate.until_running(4)
    gate.release.set()
    results = await asyncio.gather(*calls)

    assert results == [f"p{n}" for n in range(50)]
    assert gate.most == 4


async def test_beyond_the_queue_a_call_is_refused_at_once() -> None:
    hashing = pool(concurrency=2, max_waiting=3)
    gate = Gate(held=True)
    running = [asyncio.create_task(hashing.run(gate.work, "run")) for _ in range(2)]
    await gate.until_running(2)
    queued = [asyncio.create_task(hashing.run(gate.work, "queued")) for _ in range(3)]
    await until(lambda: hashing.waiting == 3)

    with pytest.raises(Overloaded) as refused:
        await hashing.run(gate.work, "one too many")

    assert refused.value.code is ErrorCode.UNAVAILABLE
    assert refused.value.retry_after_seconds == 1
    gate.release.set()
    assert await asyncio.gather(*running, *queued) == ["run"] * 2 + ["queued"] * 3
    assert gate.started == 5  # the refused call's work never ran


async def test_a_call_that_waits_too_long_for_a_slot_is_refused() -> None:
    hashing = pool(concurrency=1, max_waiting=5, max_wait_seconds=0.05)
    gate = Gate(held=True)
    running = asyncio.create_task(hashing.run(gate.work, "run"))
    await gate.until_running(1)

    with pytest.raises(Overloaded):
        await hashing.run(gate.work, "waited")

    gate.release.set()
    assert await running == "run"
    assert gate.started == 1


async def test_a_caller_that_gives_up_keeps_its_slot_until_its_hash_is_done() -> None:
    hashing = pool(concurrency=1, max_waiting=5)
    gate = Gate(held=True)
    abandoned = asyncio.create_task(hashing.run(gate.work, "abandoned"))
    await gate.until_running(1)
    abandoned.cancel()
    with pytest.raises(asyncio.CancelledError):
        await abandoned

    next_call = asyncio.create_task(hashing.run(gate.work, "next"))
    await until(lambda: hashing.waiting == 1)  # queued: the abandoned hash holds the only slot
    assert gate.started == 1

    gate.release.set()
    assert await next_call == "next"
    assert gate.most == 1
