"""What a scenario is: a name, the stack it needs, a coroutine that measures and returns rows."""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.report import Row
from bench.stack import BenchStack


@dataclass(frozen=True)
class StackShape:
    """Scenarios with the same shape share one stack, started once, in list order."""

    replicas: int = 1
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Options:
    quick: bool = False
    idle_seconds: float = 600.0
    idle_rounds: int = 1


@dataclass
class Context:
    stack: BenchStack
    options: Options
    started: float = field(default_factory=time.monotonic)

    def say(self, message: str) -> None:
        print(f"[bench {time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr)

    def load(self, full: int, quick: int) -> int:
        return quick if self.options.quick else full


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
