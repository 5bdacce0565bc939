"""`reports`: the analytics reports over a million events (bench/reports_load.py) in a DuckDB
file, read the way the insights service reads them (the store's reader threads), seller and
market, over a month and over a year; and what keeping the report tables costs the writer.
Runs in the bench's process: no stack."""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bench.report import Latency, Row
from bench.reports_load import (
    LAST_DAY,
    Shape,
    load,
    next_day_rows,
    sellers_by_size,
)
from bench.scenarios.base import OFFLINE, Context, Scenario
from svc_insights.adapters.duckdb_store import DuckDBEventStore
from svc_insights.adapters.report_tables import TABLES, ReportTables
from svc_insights.adapters.reports import DuckDBReports
from svc_insights.domain.reports import MAX_RANGE_DAYS, TOP_SELLERS, DayRange

TARGET_MS = 200.0
WRITE_BATCH = 100  # events per commit: what the writer's group commit gathers under load


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class Calls:
    """Wall time per call (what a caller waits), and the process's CPU time per call (DuckDB's
    threads included): on a machine shared with other work the wall time grows with the load,
    the CPU time much less, so the notes say both."""

    def __init__(self) -> None:
        self.wall_ms: list[float] = []
        self.cpu_ms: list[float] = []

    async def time(self, call) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        await call
        self.cpu_ms.append((time.process_time() - cpu) * 1000)
        self.wall_ms.append(_ms_since(wall))

    def cpu_note(self) -> str:
        cpu = Latency.of(self.cpu_ms)
        return f"CPU per call p50 {cpu.p50:.0f} ms, p99 {cpu.p99:.0f} ms"


def _row(name: str, load_text: str, calls: Calls, notes: str = "") -> Row:
    latency = Latency.of(calls.wall_ms)
    notes = "; ".join(n for n in (calls.cpu_note(), notes) if n)
    return Row(
        scenario=f"reports: {name}",
        load=load_text,
        latency=latency,
        target=f"p99 < {TARGET_MS:.0f} ms",
        met=latency.p99 is not None and latency.p99 < TARGET_MS,
        notes=notes,
    )


async def run(ctx: Context) -> list[Row]:
    events = ctx.load(1_000_000, 200_000)
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        store = DuckDBEventStore(str(Path(tmp) / "events.duckdb"), derived=[ReportTables()])
        await store.start()
        try:
            kept, setup = _load(ctx, store, events)
            rows = await _reads(ctx, store, kept, setup)
            rows.append(await _writes(ctx, store, kept))
            return rows
        finally:
            await store.close()


def _load(ctx: Context, store: DuckDBEventStore, events: int) -> tuple[int, str]:
    """The marketplace bulk-loaded into `events`, then the report tables derived from it; how
    many events, and what it took."""
    connection = store.connection
    started = time.perf_counter()
    kept = load(connection, Shape.of_total(events))
    loaded_s = time.perf_counter() - started
    started = time.perf_counter()
    ReportTables().rebuild(connection)
    derived_s = time.perf_counter() - started
    sizes = ", ".join(
        f"{table} {count:,}"
        for table in TABLES
        for (count,) in connection.execute(f"SELECT count(*) FROM {table}").fetchall()
    )
    setup = f"loaded in {loaded_s:.1f} s; report tables derived in {derived_s:.1f} s ({sizes})"
    ctx.say(f"reports: {kept:,} events {setup}")
    return kept, setup


async def _reads(ctx: Context, store: DuckDBEventStore, kept: int, setup: str) -> list[Row]:
    calls = ctx.load(200, 30)
    sellers = sellers_by_size(store.connection)
    largest = f"sellers at random, every 10th the one with the most tickets ({sellers[0]})"
    picker = random.Random(7)
    reports = DuckDBReports(store)
    rows = []
    for days in (
        DayRange.of(LAST_DAY - timedelta(days=29), LAST_DAY),
        DayRange.of(LAST_DAY - timedelta(days=MAX_RANGE_DAYS - 1), LAST_DAY),
    ):
        label = f"{len(days.days())} days"
        seller_calls, market_calls = Calls(), Calls()
        for n in range(calls):
            seller = sellers[0] if n % 10 == 0 else picker.choice(sellers)
            await seller_calls.time(reports.seller_report(seller, days))
            await market_calls.time(reports.market_report(days, TOP_SELLERS))
        load_text = f"{kept:,} events, {calls} calls, {label}"
        rows.append(_row(f"seller, {label}", load_text, seller_calls, largest))
        rows.append(_row(f"market, {label}", load_text, market_calls))
    rows[1] = replace(rows[1], notes=f"{rows[1].notes}; {setup}")
    return rows


async def _writes(ctx: Context, store: DuckDBEventStore, kept: int) -> Row:
    """New events committed WRITE_BATCH at a time through the store, the report tables kept in
    step in the same transactions, on top of the loaded store."""
    new = next_day_rows(ctx.load(20_000, 5_000))
    samples = []
    started_all = time.perf_counter()
    for start in range(0, len(new), WRITE_BATCH):
        started = time.perf_counter()
        await store.add_many(new[start : start + WRITE_BATCH])
        samples.append(_ms_since(started))
    rate = len(new) / (time.perf_counter() - started_all)
    return Row(
        scenario="reports: writes with report tables",
        load=f"{len(new):,} events in commits of {WRITE_BATCH}, on {kept:,}",
        latency=Latency.of(samples),
        throughput=rate,
        throughput_unit="events/s",
        notes="latency per commit of a batch (events + report tables, one transaction)",
    )


SCENARIO = Scenario(
    "reports",
    OFFLINE,
    run,
    "seller and market reports over a million events (DuckDB), p50/p95/p99 per call",
)
