"""What a scenario is: a name, the stack it needs, a coroutine that measures and returns rows."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.report import Row
from bench.stack import LOCALSTRIPE, STANDIN, BenchStack


@dataclass(frozen=True)
class StackShape:
    """Scenarios with the same shape share one stack, started once, in list order."""

    replicas: int = 1
    env: tuple[tuple[str, str], ...] = ()
    stripe: str = LOCALSTRIPE  # or STANDIN: the benchmarks' Stripe with a fixed latency


@dataclass(frozen=True)
class Options:
    quick: bool = False
    idle_seconds: float = 600.0
    idle_rounds: int = 1
    stripe_latency_ms: float = 300.0


@dataclass
class Context:
    stack: BenchStack
    options: Options
    started: float = field(default_factory=time.monotonic)
    ran: list[str] = field(default_factory=list)  # scenarios that already ran on this stack

    def say(self, message: str) -> None:
        print(f"[bench {time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr)

    def load(self, full: int, quick: int) -> int:
        return quick if self.options.quick else full

    async def settle(self) -> None:
        """Until the events a scenario left behind are consumed (see BenchStack.wait_quiet)."""
        waited = await asyncio.to_thread(self.stack.wait_quiet)
        if waited > 2:
            self.say(f"waited {waited:.0f} s for the event backlog to drain")


@dataclass(frozen=True)
class Scenario:
    name: str
    shape: StackShape
    run: Callable[[Context], Awaitable[list[Row]]]
    summary: str = ""


# Orders hold their ticket 30 s in the stack the benchmarks share: long enough for 1,000 orders
# to be placed before the first falls due, short enough not to idle the run.
ORDER_HOLD_SECONDS = 30
SINGLE = StackShape(replicas=1, env=(("ORDER_EXPIRATION_SECONDS", str(ORDER_HOLD_SECONDS)),))
THREE_REPLICAS = StackShape(
    replicas=3, env=(("ORDER_EXPIRATION_SECONDS", str(ORDER_HOLD_SECONDS)),)
)

# The gateway scenarios (k6). The read cache is on by default in the gateway; a stack with it off
# measures the uncached path. The default stack pays with the stand-in (bench/stripe_standin.py)
# so the purchase figure is ours; the localstripe purchase runs on the uncached stack.
GATEWAY_UNCACHED = StackShape(env=(("TICKET_CACHE_ENABLED", "false"),))
GATEWAY_DEFAULT = StackShape(env=(("TICKET_CACHE_ENABLED", "true"),), stripe=STANDIN)
