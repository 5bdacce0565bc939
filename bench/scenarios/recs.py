"""`recs`: the recommender's offline evaluation on a synthetic marketplace and its serving time
(bench/recs/). Runs in the bench's process: no stack."""

from __future__ import annotations

import asyncio

from bench.recs.measure import measure
from bench.report import Row
from bench.scenarios.base import OFFLINE, Context, Scenario


async def run(ctx: Context) -> list[Row]:
    outcome = await asyncio.to_thread(measure, quick=ctx.options.quick)
    ctx.say("recs evaluation:\n" + outcome.table)
    return outcome.rows


SCENARIO = Scenario(
    "recs",
    OFFLINE,
    run,
    "offline evaluation of the recommender on a synthetic marketplace, and its serving time",
)
