"""What a scenario is: a name, the stack it needs, a coroutine that measures and returns rows."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.report import Row
from bench.stack import INSTANT, STANDIN, BenchStack


@dataclass(frozen=True)
class StackShape:
    """Scenarios with the same shape share one stack, started once, in list order."""

    replicas: int = 1
    env: tuple[tuple[str, str], ...] = ()
    stripe: str = INSTANT  # or STANDIN: the Stripe stand-in with a fixed latency


@dataclass(frozen=True)
class Options:
    quick: bool = False
    idle_seconds: float = 600.0
    idle_rounds: int = 1
    stripe_latency_ms: float = 300.0


@dataclass
class Context:
    stack: BenchStack  # None for an OFFLINE scenario
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


@dataclass
class CpuUse:
    """CPU seconds each process of the stack spent over some k6 runs' loads (their setups
    left out), to say what one request or flow costs where."""

    stack: BenchStack
    spent: dict[str, float] = field(default_factory=dict)
    _start: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        """From now (a k6 script's setup is done: `run_k6(on_measuring=cpu.start)`)."""
        self._start = self.stack.cpu_seconds()

    def stop(self) -> None:
        """Until now; the next `start` adds a new stretch."""
        for label, seconds in self.stack.cpu_seconds().items():
            spent = seconds - self._start.get(label, seconds)
            self.spent[label] = self.spent.get(label, 0.0) + spent

    def per(self, count: int, unit: str, top: int = 5) -> str:
        """`CPU ms per req: gateway 2.9, tickets 1.1, ...`, the largest first."""
        if count <= 0:
            return ""
        ranked = sorted(self.spent.items(), key=lambda item: -item[1])[:top]
        parts = [f"{label} {seconds / count * 1000:.1f}" for label, seconds in ranked]
        return f"CPU ms per {unit}: {', '.join(parts)}"

    def ms_per(self, count: int) -> dict[str, float]:
        return {k: v / count * 1000 for k, v in self.spent.items()} if count > 0 else {}


@dataclass
class DbOperations:
    """The database's operations over a stretch (serverStatus opcounters), to say how many
    round trips one flow costs."""

    stack: BenchStack
    done: dict[str, int] = field(default_factory=dict)
    _start: dict[str, int] = field(default_factory=dict)

    def start(self) -> None:
        self._start = self.stack.db_operations()

    def stop(self, own_queries: int = 0) -> None:
        """`own_queries`: the bench's own reads meanwhile, left out."""
        now = self.stack.db_operations()
        self.done = {k: v - self._start.get(k, v) for k, v in now.items()}
        if "query" in self.done:
            self.done["query"] = max(0, self.done["query"] - own_queries)

    def per(self, count: int, unit: str) -> str:
        if count <= 0 or not self.done:
            return ""
        parts = ", ".join(f"{k} {v / count:.1f}" for k, v in self.done.items() if v)
        total = sum(self.done.values()) / count
        return f"database operations per {unit}: {total:.1f} ({parts})"


@dataclass(frozen=True)
class Scenario:
    name: str
    shape: StackShape
    run: Callable[[Context], Awaitable[list[Row]]]
    summary: str = ""


# A scenario that measures code in the bench's own process and needs no stack.
OFFLINE = StackShape(replicas=0)

# Orders hold their ticket 30 s in the stack the benchmarks share: long enough for 1,000 orders
# to be placed before the first falls due, short enough not to idle the run.
ORDER_HOLD_SECONDS = 30
SINGLE = StackShape(replicas=1, env=(("ORDER_EXPIRATION_SECONDS", str(ORDER_HOLD_SECONDS)),))
THREE_REPLICAS = StackShape(
    replicas=3, env=(("ORDER_EXPIRATION_SECONDS", str(ORDER_HOLD_SECONDS)),)
)

# The gateway scenarios (k6). The read cache is on by default in the gateway; a stack with it off
# measures the uncached path. The default stack's Stripe stand-in answers after Stripe's typical
# latency (bench/stripe_standin.py), so the purchase figure is ours under a realistic Stripe.
# The gateway runs as it does in a pod with a 2-CPU limit: two workers (`ticketing run` keeps one).
GATEWAY_WORKERS = ("GATEWAY_WORKERS", "2")
GATEWAY_UNCACHED = StackShape(env=(("TICKET_CACHE_ENABLED", "false"), GATEWAY_WORKERS))
GATEWAY_DEFAULT = StackShape(
    env=(("TICKET_CACHE_ENABLED", "true"), GATEWAY_WORKERS), stripe=STANDIN
)
