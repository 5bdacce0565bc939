"""`make bench` / `python -m bench`: starts the stack on free ports, runs every scenario, prints
one table and writes it under bench/results/ (a file per run, and latest.md / latest.json)."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.report import Row
from bench.scenarios import SCENARIOS, by_name
from bench.scenarios.base import OFFLINE, Context, Options, Scenario, StackShape
from bench.stack import REPO, BenchStack

RESULTS = Path(__file__).resolve().parent / "results"
CRASHED = "scenario failed"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        action="append",
        choices=[s.name for s in SCENARIOS],
        help="run this scenario only (repeatable)",
    )
    parser.add_argument("--quick", action="store_true", help="smaller loads: a smoke run")
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=float(os.environ.get("BENCH_IDLE_SECONDS", "600")),
        help="how long the stack idles before an idle sample (BENCH_IDLE_SECONDS, 600)",
    )
    parser.add_argument(
        "--idle-rounds",
        type=int,
        default=int(os.environ.get("BENCH_IDLE_ROUNDS", "1")),
        help="idle samples, each after its own idle wait (BENCH_IDLE_ROUNDS, 1)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a target is missed, not only on a crash"
    )
    parser.add_argument(
        "--stripe-latency-ms",
        type=float,
        default=float(os.environ.get("BENCH_STRIPE_LATENCY_MS", "300")),
        help="the Stripe stand-in's latency per call (BENCH_STRIPE_LATENCY_MS, 300)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the table")
    return parser.parse_args(argv)


def failed_row(scenario: Scenario, exc: BaseException) -> Row:
    return Row(
        scenario=scenario.name,
        load="-",
        errors=1,
        met=False,
        notes=f"{CRASHED}: {type(exc).__name__}: {exc}"[:300],
    )


async def run_on(
    stack: BenchStack | None, scenarios: list[Scenario], options: Options
) -> list[Row]:
    ctx = Context(stack, options)  # type: ignore[arg-type]
    rows: list[Row] = []
    try:
        for scenario in scenarios:
            ctx.say(f"scenario {scenario.name}: {scenario.summary}")
            try:
                rows += await scenario.run(ctx)
                ctx.ran.append(scenario.name)
            except Exception as exc:
                traceback.print_exc()
                rows.append(failed_row(scenario, exc))
    finally:
        if stack is not None:
            await stack.close_channels()
    return rows


def grouped(scenarios: list[Scenario]) -> list[tuple[StackShape, list[Scenario]]]:
    """Consecutive scenarios needing the same stack share it."""
    groups: list[tuple[StackShape, list[Scenario]]] = []
    for scenario in scenarios:
        if groups and groups[-1][0] == scenario.shape:
            groups[-1][1].append(scenario)
        else:
            groups.append((scenario.shape, [scenario]))
    return groups


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


class RunStart:
    """When a run began, kept for the metadata its results carry."""

    def __init__(self) -> None:
        self.at, self.clock, self.load = datetime.now(UTC), time.monotonic(), os.getloadavg()

    def meta(self, options: dict[str, Any]) -> dict[str, Any]:
        return {
            "started": self.at.isoformat(timespec="seconds"),
            "seconds": time.monotonic() - self.clock,
            "commit": commit(),
            "host": platform.node(),
            "cpus": os.cpu_count(),
            # The machine is shared: its load says how much of the figures is the neighbours'.
            "load_average": {"start": self.load, "end": os.getloadavg()},
            "python": platform.python_version(),
            "options": options,
        }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    options = Options(
        quick=args.quick,
        idle_seconds=args.idle_seconds,
        idle_rounds=args.idle_rounds,
        stripe_latency_ms=args.stripe_latency_ms,
    )
    chosen = [by_name(n) for n in args.only] if args.only else list(SCENARIOS)
    start = RunStart()
    rows: list[Row] = []
    for shape, scenarios in grouped(chosen):
        if shape == OFFLINE:
            rows += asyncio.run(run_on(None, scenarios, options))
            continue
        stack = BenchStack(
            replicas_wanted=shape.replicas,
            extra_env=dict(shape.env),
            stripe=shape.stripe,
            stripe_latency_ms=options.stripe_latency_ms,
        )
        print(
            f"[bench] starting {shape.replicas} replica(s) in namespace {stack.namespace}"
            f" ({shape.stripe}; {dict(shape.env)})",
            file=sys.stderr,
        )
        try:
            stack.start()
            rows += asyncio.run(run_on(stack, scenarios, options))
        except Exception as exc:
            traceback.print_exc()
            rows += [failed_row(s, exc) for s in scenarios]
        finally:
            stack.stop()
    rows = report.with_ratios(rows)
    meta = start.meta(
        {
            "quick": options.quick,
            "idle_seconds": options.idle_seconds,
            "idle_rounds": options.idle_rounds,
            "stripe_latency_ms": options.stripe_latency_ms,
            "only": args.only or "all",
        }
    )
    print(report.markdown_table(rows))
    for path in report.write(rows, meta, args.results):
        print(f"[bench] wrote {path}", file=sys.stderr)
    crashed = any(row.notes.startswith(CRASHED) for row in rows)
    missed = any(row.met is False for row in rows)
    return 1 if crashed or (args.strict and missed) else 0
