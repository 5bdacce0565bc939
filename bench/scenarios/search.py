"""`search`: the event search read model (tantivy in RAM) over a generated catalogue of 10,000
events and 100,000 listings (bench/search/). Runs in the bench's process: no stack."""

from __future__ import annotations

import asyncio

from bench.report import Row
from bench.scenarios.base import OFFLINE, Context, Scenario
from bench.search.measure import measure


async def run(ctx: Context) -> list[Row]:
    return await asyncio.to_thread(measure, quick=ctx.options.quick)


SCENARIO = Scenario(
    "search",
    OFFLINE,
    run,
    "the event search index in-process: build, query mix, writes, memory",
)
