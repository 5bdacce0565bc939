"""The purchase flow through the gateway (createOrder -> createPayment -> the order COMPLETE),
driven by k6 (bench/k6/purchase.js): with the Stripe stand-in answering after Stripe's typical
latency, at 64 virtual users (our services' figure).

Tickets are listed before the run over gRPC, and the run starts once the orders service has
consumed their TicketCreated events, so no backlog of events loads it. "payment -> COMPLETE" is
from createPayment's answer (k6's clock) to the moment the order reads COMPLETE in the orders
service's database (ours: one query for every pending order each 10 ms, so observing costs one
small read per 10 ms, not a request per flow). The flow row's latency is from createOrder sent
to COMPLETE seen; its rate counts paid flows over the window k6 ran them in.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from pymongo.asynchronous.collection import AsyncCollection

from bench.client import Market, bounded
from bench.k6run import K6Result, run_k6
from bench.report import Latency, Row
from bench.scenarios.base import (
    GATEWAY_DEFAULT,
    Context,
    CpuUse,
    DbOperations,
    Scenario,
)
from bench.scenarios.ids import global_id, raw_id
from common.mongo import database_name, mongo_client

PAID_LINE = re.compile(r"PAID (\S+) (\d+) (\d+)")
POLL_SECONDS = 0.01
COMPLETE_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Setup:
    label: str  # "stand-in"
    vus: int
    seconds: tuple[int, int]  # the run's longest duration: full, quick
    tickets_per_second: int  # tickets listed per second of run: above the rate it may reach
    flows_target: float | None
    p99_target_ms: float | None


@dataclass
class CompletionWatch:
    """Tails k6's console output for paid orders and times each until it reads COMPLETE."""

    console: Path
    orders: AsyncCollection
    pending: dict[str, tuple[float, float]] = field(default_factory=dict)  # id -> (start, paid)
    to_complete_ms: list[float] = field(default_factory=list)
    flow_ms: list[float] = field(default_factory=list)
    queries: int = 0  # its own reads, left out of the database's count
    _offset: int = 0

    def _read_new(self) -> None:
        if not self.console.exists():
            return
        with self.console.open("rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits
        self._offset += len(complete)
        for match in PAID_LINE.finditer(complete.decode(errors="replace")):
            # k6 prints the API's id of the order; the orders database keys it by its own.
            self.pending[raw_id(match.group(1))] = (float(match.group(2)), float(match.group(3)))

    async def _check(self) -> None:
        if not self.pending:
            return
        self.queries += 1
        found = await self.orders.find(
            {"_id": {"$in": list(self.pending)}, "status": "COMPLETE"}, projection={"_id": 1}
        ).to_list()
        now_ms = time.time() * 1000
        for doc in found:
            started, paid = self.pending.pop(doc["_id"])
            self.to_complete_ms.append(max(0.0, now_ms - paid))
            self.flow_ms.append(now_ms - started)

    async def watch(self, k6_done: asyncio.Event) -> None:
        """Until k6 is done and every paid order read COMPLETE (or 30 s more went by)."""
        deadline: float | None = None
        while True:
            self._read_new()
            await self._check()
            if k6_done.is_set():
                deadline = deadline or time.monotonic() + COMPLETE_TIMEOUT_SECONDS
                self._read_new()
                if not self.pending or time.monotonic() > deadline:
                    return
            await asyncio.sleep(POLL_SECONDS)


async def list_tickets(ctx: Context, count: int) -> list[str]:
    market = Market(ctx.stack)
    seller = await market.sign_up()
    made = await bounded([lambda: market.create_ticket(seller) for _ in range(count)], 16)
    failed = [m for m in made if isinstance(m, BaseException)]
    if failed:
        raise RuntimeError(f"{len(failed)} tickets could not be listed: {failed[0]!r}")
    return [str(m) for m in made]


async def measure(ctx: Context, setup: Setup) -> list[Row]:
    seconds = ctx.load(*setup.seconds)
    count = setup.tickets_per_second * seconds
    ctx.say(f"purchase ({setup.label}): listing {count} tickets")
    ids = await list_tickets(ctx, count)
    await ctx.settle()
    tickets_file = ctx.stack.workdir / f"purchase-{setup.label}-tickets.json"
    tickets_file.write_text(json.dumps([global_id("Ticket", i) for i in ids]))
    console = ctx.stack.workdir / f"purchase-{setup.label}-console.log"
    env = {
        "GATEWAY_URL": ctx.stack.replicas[0].gateway_url,
        "TICKETS_FILE": str(tickets_file),
        "VUS": str(setup.vus),
        "MAX_DURATION": f"{seconds}s",
    }
    client = mongo_client(ctx.stack.mongo_url)
    orders = client[database_name(ctx.stack.namespace, "orders")]["orders"]
    watch, k6_done = CompletionWatch(console, orders), asyncio.Event()
    watching = asyncio.create_task(watch.watch(k6_done))
    cpu, ops = CpuUse(ctx.stack), DbOperations(ctx.stack)

    def measuring() -> None:
        cpu.start()
        ops.start()

    try:
        result = await run_k6(
            "purchase.js",
            env,
            ctx.stack.workdir,
            seconds + 300,
            console_output=console,
            on_measuring=measuring,
        )
    finally:
        k6_done.set()
        await watching  # every paid order COMPLETE: the flows' work is done
        cpu.stop()
        ops.stop(own_queries=watch.queries)
        await client.close()
    return rows(setup, result, watch, cpu, ops)


def rows(
    setup: Setup, result: K6Result, watch: CompletionWatch, cpu: CpuUse, ops: DbOperations
) -> list[Row]:
    paid, window = result.count("paid"), result.window_seconds
    rate = result.rate(paid)
    never = len(watch.pending)
    failures = result.count("failures")
    name = f"purchase ({setup.label})"
    load = f"{setup.vus} VUs, {result.count('iterations')} flows in {window:.1f} s"

    def p99_met(latency: Latency, errors: int) -> bool | None:
        if setup.p99_target_ms is None:
            return None
        return latency.p99 is not None and latency.p99 < setup.p99_target_ms and errors == 0

    create_order = result.trend("http_req_duration", "createOrder")
    to_complete = Latency.of(watch.to_complete_ms)
    p99_target = f"p99 < {setup.p99_target_ms:g} ms" if setup.p99_target_ms else ""
    flows_met = None
    if setup.flows_target is not None:
        flows_met = rate is not None and rate >= setup.flows_target and failures + never == 0
    return [
        Row(
            scenario=f"{name}: flows",
            load=load,
            latency=Latency.of(watch.flow_ms),
            throughput=rate,
            throughput_unit="flows/s",
            errors=failures + never,
            target=f"≥ {setup.flows_target:g} flows/s" if setup.flows_target else "",
            met=flows_met,
            notes=f"{paid} paid, {failures} failed requests, {never} never COMPLETE; "
            f"latency: createOrder sent to COMPLETE seen; {cpu.per(paid, 'flow')}; "
            f"{ops.per(paid, 'flow')}" + result.first_failure(),
            extra={
                "cpu_ms_per_flow": cpu.ms_per(paid),
                "database_operations": ops.done,
                "failed": result.failed,
            },
        ),
        Row(
            scenario=f"{name}: createOrder",
            load=load,
            latency=create_order,
            errors=failures,
            target=p99_target,
            met=p99_met(create_order, failures),
        ),
        Row(
            scenario=f"{name}: createPayment",
            load=load,
            latency=result.trend("http_req_duration", "createPayment"),
            notes="includes the Stripe call",
        ),
        Row(
            scenario=f"{name}: payment -> COMPLETE",
            load=load,
            latency=to_complete,
            errors=never,
            target=p99_target,
            met=p99_met(to_complete, never),
            notes=f"resolution {POLL_SECONDS * 1000:.0f} ms + one read; {never} never COMPLETE",
        ),
    ]


STANDIN = Setup("stand-in", 64, (20, 8), 100, 100, 100)


async def run_standin(ctx: Context) -> list[Row]:
    return await measure(ctx, STANDIN)


STANDIN_SCENARIO = Scenario(
    "purchase-standin",
    GATEWAY_DEFAULT,
    run_standin,
    "order -> pay -> COMPLETE through the gateway, Stripe stand-in, 64 VUs",
)
