"""Relay throughput per service: N events committed at once into a service's outbox; the rate
at which its relay gets them onto the exchange (publisher confirms included, as the relay only
moves on once the broker confirmed), first arrival to last."""

from __future__ import annotations

import time

from bench.outbox_load import KEY, commit_events, user_id_of, wait_delivered
from bench.probe import EventProbe
from bench.report import Row
from bench.scenarios.base import SINGLE, Context, Scenario

OUTBOX_SERVICES = ("auth", "tickets", "orders", "payments")
TARGET_PER_SECOND = 1000.0


async def run(ctx: Context) -> list[Row]:
    count = ctx.load(5000, 1000)
    rows = []
    probe = EventProbe(ctx.stack.amqp_url, ctx.stack.namespace, (KEY,))
    try:
        for service in OUTBOX_SERVICES:
            ctx.say(f"relay: {count} events through {service}'s outbox")
            probe.clear()
            committed_at = time.time()
            expected = await commit_events(ctx.stack, service, count)
            committed_at = (committed_at + time.time()) / 2
            delivered = await wait_delivered(probe, expected, user_id_of, KEY, timeout=300)
            rate = delivered.rate()
            drained = (
                f"all out {delivered.arrivals[-1].at - committed_at:.1f} s after commit"
                if delivered.arrivals
                else "nothing arrived"
            )
            errors = delivered.missing + delivered.duplicates
            rows.append(
                Row(
                    scenario=f"relay throughput: {service}",
                    load=f"{count} events in one commit",
                    count=count,
                    throughput=rate,
                    throughput_unit="events/s",
                    errors=errors,
                    target=f"≥ {TARGET_PER_SECOND:,.0f} events/s",
                    met=rate is not None and rate >= TARGET_PER_SECOND and errors == 0,
                    notes=f"{drained}; {delivered.missing} missing, "
                    f"{delivered.duplicates} duplicates",
                )
            )
    finally:
        probe.close()
    return rows


SCENARIO = Scenario("relay", SINGLE, run, "events/s one relay publishes with confirms")
