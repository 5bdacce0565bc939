"""The gateway under k6 load, one operation each: `tickets(first: 20)` and `orders(first: 20)`
(with each order's ticket and payment) at 16 virtual users, `createTicket` at 8. Each script's
setup makes what it reads (bench/k6/*.js); the rate is over the window the load ran in."""

from __future__ import annotations

from dataclasses import dataclass

from bench.k6run import run_k6
from bench.report import Row
from bench.scenarios.base import GATEWAY_DEFAULT, Context, CpuUse, Scenario


@dataclass(frozen=True)
class Load:
    row: str  # the row's scenario name
    script: str
    op: str  # the `op` tag of the measured requests
    vus: int
    min_rate: float | None  # req/s the target asks for, if any


async def measure(ctx: Context, load: Load) -> list[Row]:
    seconds = ctx.load(20, 6)
    env = {
        "GATEWAY_URL": ctx.stack.replicas[0].gateway_url,
        "VUS": str(load.vus),
        "DURATION": f"{seconds}s",
    }
    await ctx.settle()
    cpu = CpuUse(ctx.stack)
    result = await run_k6(
        load.script, env, ctx.stack.workdir, timeout=seconds + 240, on_measuring=cpu.start
    )
    cpu.stop()
    latency = result.trend("http_req_duration", load.op)
    errors = result.count("failures")
    throughput = result.rate(latency.count)
    met = None
    if load.min_rate is not None:
        met = throughput is not None and throughput >= load.min_rate and errors == 0
    return [
        Row(
            scenario=load.row,
            load=f"{load.vus} VUs, {result.window_seconds:.0f} s",
            latency=latency,
            throughput=throughput,
            throughput_unit="req/s",
            errors=errors,
            target=f"≥ {load.min_rate:g} req/s" if load.min_rate is not None else "",
            met=met,
            notes=f"{errors} failed requests; {cpu.per(latency.count, 'req')}"
            + result.first_failure(),
            extra={"cpu_ms_per_request": cpu.ms_per(latency.count), "failed": result.failed},
        )
    ]


def scenario(name: str, load: Load, summary: str) -> Scenario:
    async def run(ctx: Context) -> list[Row]:
        return await measure(ctx, load)

    return Scenario(name, GATEWAY_DEFAULT, run, summary)


TICKETS_SCENARIO = scenario(
    "tickets-list",
    Load("tickets(first: 20), gateway", "tickets_list.js", "tickets", 16, 300),
    "the first page of tickets through the gateway, 16 VUs",
)
ORDERS_SCENARIO = scenario(
    "orders-list",
    Load("orders(first: 20) + ticket + payment, gateway", "orders_list.js", "orders", 16, 200),
    "a buyer's 20 paid orders with ticket and payment through the gateway, 16 VUs",
)
CREATE_TICKET_SCENARIO = scenario(
    "create-ticket",
    Load("createTicket, gateway", "create_ticket.js", "createTicket", 8, None),
    "createTicket through the gateway, 8 VUs (a seller each)",
)
