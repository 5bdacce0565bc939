"""Resident memory (VmRSS, with each process's children: a gateway's workers) of every process
the stack started: idle (sampled when the stack was ready, before any load) and after the load
of the scenarios that ran before this one on the same stack, once their events were consumed.
Alone on its stack (`--only memory`), it loads the stack itself first with ticket(id) reads
through the gateway.
"""

from __future__ import annotations

from bench.k6run import run_k6
from bench.report import Row
from bench.scenarios.base import GATEWAY_DEFAULT, Context, Scenario
from bench.scenarios.ids import global_id
from bench.scenarios.ticket_read import seed_tickets

OURS = ("gateway", "auth", "tickets", "orders", "payments", "expiration")
TARGET_MIB = 600.0


async def own_load(ctx: Context) -> str:
    ids = await seed_tickets(ctx, 50)
    seconds = ctx.load(10, 5)
    env = {
        "GATEWAY_URL": ctx.stack.replicas[0].gateway_url,
        "GATEWAY_TICKET_IDS": ",".join(global_id("Ticket", i) for i in ids),
        "VUS": "16",
        "DURATION": f"{seconds}s",
    }
    await run_k6("ticket_gateway.js", env, ctx.stack.workdir, timeout=seconds + 60)
    return f"after {seconds} s of ticket(id) at 16 VUs (nothing else ran on this stack)"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MiB"


async def run(ctx: Context) -> list[Row]:
    loaded = f"after {', '.join(ctx.ran)}" if ctx.ran else await own_load(ctx)
    await ctx.settle()
    idle, after = ctx.stack.idle_memory, ctx.stack.memory()
    rows = [
        Row(
            scenario=f"memory: {name}",
            load="idle, then after load",
            notes=f"idle {_mib(idle.get(name))}, after load {_mib(mib)}",
            extra={"idle_mib": idle.get(name), "after_mib": mib},
        )
        for name, mib in after.items()
    ]
    ours_after = sum(after.get(name, 0.0) for name in OURS)
    ours_idle = sum(idle.get(name, 0.0) for name in OURS)
    missing = [name for name in OURS if name not in after]
    rows.append(
        Row(
            scenario="memory: gateway + five services",
            load="idle, then after load",
            errors=len(missing),
            target=f"≤ {TARGET_MIB:g} MiB after load",
            met=ours_after <= TARGET_MIB and not missing,
            notes=f"idle {_mib(ours_idle)}, after load {_mib(ours_after)}; {loaded}"
            + (f"; not found: {', '.join(missing)}" if missing else ""),
            extra={"idle_mib": ours_idle, "after_mib": ours_after},
        )
    )
    return rows


SCENARIO = Scenario(
    "memory",
    GATEWAY_DEFAULT,
    run,
    "RSS of every process, idle and after the load (last on its stack)",
)
