"""Polling a state the system reaches on its own (an event consumed, a process replaced), up to a
bounded deadline: the first value of `read()` that satisfies `predicate`, or AssertionError."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


def until(read: Callable[[], Any], predicate: Callable[[Any], bool], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never reached the expected state; last: {value}")
        time.sleep(0.1)


async def until_async(
    read: Callable[[], Awaitable[Any]], predicate: Callable[[Any], bool], timeout: float = 15
) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()
        if predicate(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never reached the expected state; last: {value}")
        await asyncio.sleep(0.05)
