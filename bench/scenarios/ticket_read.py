"""`ticket(id)` through the gateway against the same read straight over gRPC (GetTicket, k6's
gRPC client with server reflection), both driven by k6, at 1 and at 16 virtual users.

The two sides run in alternating rounds (gateway, direct, direct, gateway, ...) so whatever
else the machine does drifts over both alike; each side's rounds are then combined (rates over
the summed windows; percentiles as the sample-weighted mean of the rounds'). The gateway rows
carry their ratio to the direct rows of the same stack: p50 at 1 VU, throughput at 16 VUs.

Two stacks: the gateway's ticket cache off (the uncached path against the service), and on
(the default; the cached gateway against the uncached service).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bench.client import Market, bounded
from bench.k6run import K6Result, combined, run_k6
from bench.report import Latency, RatioTarget, Row
from bench.scenarios.base import (
    GATEWAY_DEFAULT,
    GATEWAY_UNCACHED,
    Context,
    CpuUse,
    Scenario,
)
from bench.scenarios.ids import global_id

TICKETS = 50
VU_LEVELS = (1, 16)


@dataclass(frozen=True)
class Side:
    label: str  # in the row's name
    script: str
    metric: str  # the k6 trend holding the request durations


GATEWAY = Side("gateway", "ticket_gateway.js", "http_req_duration")
CACHED_GATEWAY = Side("gateway cached", "ticket_gateway.js", "http_req_duration")
DIRECT = Side("direct gRPC", "ticket_grpc.js", "grpc_req_duration")


def row_name(side: Side, vus: int, stack_label: str) -> str:
    return f"ticket(id) {side.label}, {vus} VU{'s' if vus > 1 else ''}{stack_label}"


async def seed_tickets(ctx: Context, count: int) -> list[str]:
    market = Market(ctx.stack)
    seller = await market.sign_up()
    made = await bounded([lambda: market.create_ticket(seller) for _ in range(count)], 8)
    failed = [m for m in made if isinstance(m, BaseException)]
    if failed:
        raise RuntimeError(f"could not create the tickets to read: {failed[0]!r}")
    return [str(m) for m in made]


async def one_run(
    ctx: Context, side: Side, ids: list[str], vus: int, seconds: float, cpu: CpuUse | None = None
) -> K6Result:
    replica = ctx.stack.replicas[0]
    env = {
        "GATEWAY_URL": replica.gateway_url,
        "GRPC_ADDR": replica.addr("tickets"),
        "TICKET_IDS": ",".join(ids),  # the service's own ids, for ticket_grpc.js
        "GATEWAY_TICKET_IDS": ",".join(global_id("Ticket", i) for i in ids),  # the API's
        "VUS": str(vus),
        "DURATION": f"{seconds:g}s",
    }
    if cpu is None:
        return await run_k6(side.script, env, ctx.stack.workdir, timeout=seconds + 60)
    result = await run_k6(
        side.script, env, ctx.stack.workdir, timeout=seconds + 60, on_measuring=cpu.start
    )
    cpu.stop()
    return result


def side_row(
    side: Side, vus: int, stack_label: str, runs: list[K6Result], rounds: int, cpu: CpuUse
) -> Row:
    latencies = [r.trend(side.metric, "ticket") for r in runs]
    latency: Latency = combined(latencies)
    window = sum(r.window_seconds for r in runs)
    throughput = latency.count / window if window else None
    per_round = [
        lat.count / r.window_seconds if r.window_seconds else 0.0
        for lat, r in zip(latencies, runs, strict=True)
    ]
    spread = " to ".join(f"{v:,.0f}" for v in (min(per_round), max(per_round)))
    return Row(
        scenario=row_name(side, vus, stack_label),
        load=f"{vus} VU{'s' if vus > 1 else ''}, {rounds} rounds of {window / rounds:.0f} s",
        latency=latency,
        throughput=throughput,
        throughput_unit="req/s",
        errors=sum(r.count("failures") for r in runs),
        notes=f"rounds {spread} req/s; {cpu.per(latency.count, 'req')}"
        + next((r.first_failure() for r in runs if r.failed), ""),
        extra={
            "rounds_req_per_s": per_round,
            "cpu_ms_per_request": cpu.ms_per(latency.count),
            "failed": [f for r in runs for f in r.failed][:10],
        },
    )


async def measure(
    ctx: Context, gateway: Side, stack_label: str, targets: dict[int, RatioTarget]
) -> list[Row]:
    ids = await seed_tickets(ctx, TICKETS)
    rounds, seconds = ctx.load(3, 2), ctx.load(8, 3)
    await ctx.settle()
    rows: list[Row] = []
    for vus in VU_LEVELS:
        for side in (gateway, DIRECT):  # warm up: connections, the cache, first-call costs
            await one_run(ctx, side, ids, vus, ctx.load(2, 1))
        runs: dict[str, list[K6Result]] = {gateway.label: [], DIRECT.label: []}
        cpu = {gateway.label: CpuUse(ctx.stack), DIRECT.label: CpuUse(ctx.stack)}
        for index in range(rounds):
            order = (gateway, DIRECT) if index % 2 == 0 else (DIRECT, gateway)
            for side in order:
                ctx.say(f"ticket(id) {side.label}, {vus} VU, round {index + 1} of {rounds}")
                run = await one_run(ctx, side, ids, vus, seconds, cpu[side.label])
                runs[side.label].append(run)
        direct = side_row(DIRECT, vus, stack_label, runs[DIRECT.label], rounds, cpu[DIRECT.label])
        via = side_row(gateway, vus, stack_label, runs[gateway.label], rounds, cpu[gateway.label])
        rows += [
            direct,
            replace(via, baseline=direct.scenario, ratio_target=targets.get(vus)),
        ]
    return rows


async def run_uncached(ctx: Context) -> list[Row]:
    targets = {
        1: RatioTarget("p50", at_most=1.5),
        16: RatioTarget("throughput", at_least=0.67),
    }
    return await measure(ctx, GATEWAY, "", targets)


async def run_cached(ctx: Context) -> list[Row]:
    targets = {16: RatioTarget("throughput", at_least=1.0)}
    return await measure(ctx, CACHED_GATEWAY, " (cache on)", targets)


UNCACHED_SCENARIO = Scenario(
    "ticket-uncached",
    GATEWAY_UNCACHED,
    run_uncached,
    "ticket(id): gateway (cache off) against direct gRPC, interleaved",
)
CACHED_SCENARIO = Scenario(
    "ticket-cached",
    GATEWAY_DEFAULT,
    run_cached,
    "ticket(id): gateway with its Redis cache against direct gRPC, interleaved",
)
