"""Expiry lateness: 1,000 unpaid orders falling due within 5 s; how long after its `expiresAt`
each one's OrderCancelled reaches the exchange (the moment orders committed CANCELLED, plus the
relay's hop), and, for diagnosis, when expiration's OrderExpired did."""

from __future__ import annotations

import asyncio
import time

from bench.client import Market, bounded, order_when_orderable
from bench.probe import EventProbe
from bench.report import Latency, Row
from bench.scenarios.base import ORDER_HOLD_SECONDS, SINGLE, Context, Scenario

NAME = "expiry: CANCELLED after expiresAt"
TARGET_P99_MS = 1000.0
DUE_WINDOW_SECONDS = 4.5
# After the last order is due, cancellations must have arrived by then (main: ~7-80/s).
SETTLE_SECONDS = 300.0


def _seconds(timestamp) -> float:
    return timestamp.seconds + timestamp.nanos / 1e9


async def run(ctx: Context) -> list[Row]:
    count = ctx.load(1000, 200)
    market = Market(ctx.stack)
    probe = EventProbe(
        ctx.stack.amqp_url, ctx.stack.namespace, ("order.cancelled", "order.expired")
    )
    try:
        seller, buyer = await market.sign_up(), await market.sign_up()
        ctx.say(f"expiry: creating {count} tickets")
        created = await bounded(
            [lambda: market.create_ticket(seller) for _ in range(count)], concurrency=16
        )
        ticket_ids = [t for t in created if isinstance(t, str)]
        failures = len(created) - len(ticket_ids)
        # The last ticket orderable means orders has caught up with (nearly) all of them.
        sentinel = await order_when_orderable(
            market, buyer, await market.create_ticket(seller), give_up_after=180
        )
        if sentinel.order is not None:
            await market.cancel_order(buyer, sentinel.order.id)
        ctx.say(f"expiry: placing {len(ticket_ids)} orders over {DUE_WINDOW_SECONDS} s")
        start = time.monotonic()

        def paced(i: int, ticket_id: str):
            async def place():
                await asyncio.sleep(
                    max(0.0, start + i * DUE_WINDOW_SECONDS / count - time.monotonic())
                )
                return await order_when_orderable(market, buyer, ticket_id, retry_every=0.05)

            return place

        placed = await bounded([paced(i, t) for i, t in enumerate(ticket_ids)], concurrency=64)
        due = {
            p.order.id: _seconds(p.order.expires_at)
            for p in placed
            if not isinstance(p, BaseException) and p.order is not None
        }
        failures += len(placed) - len(due)
        window = max(due.values()) - min(due.values()) if due else 0.0
        ctx.say(f"expiry: {len(due)} orders due within {window:.1f} s; waiting for cancellations")
        deadline = time.monotonic() + max(0.0, max(due.values(), default=0) - time.time())
        deadline += SETTLE_SECONDS
        cancelled: dict[str, float] = {}
        expired: dict[str, float] = {}
        while time.monotonic() < deadline:
            for arrival in probe.arrivals():
                body = arrival.json()
                if arrival.routing_key == "order.cancelled":
                    cancelled.setdefault(body.get("id", ""), arrival.at)
                else:
                    expired.setdefault(body.get("orderId", ""), arrival.at)
            if all(order_id in cancelled for order_id in due):
                break
            await asyncio.sleep(0.5)
    finally:
        probe.close()

    late_cancel = [(cancelled[o] - due[o]) * 1000 for o in due if o in cancelled]
    late_expire = [(expired[o] - due[o]) * 1000 for o in due if o in expired]
    missing = sum(1 for o in due if o not in cancelled)
    times = sorted(cancelled[o] for o in due if o in cancelled)
    rate = (
        (len(times) - 1) / (times[-1] - times[0])
        if len(times) > 1 and times[-1] > times[0]
        else None
    )
    cancel_latency = Latency.of(late_cancel)
    load = f"{len(due)} orders due within {window:.1f} s (hold {ORDER_HOLD_SECONDS} s)"
    return [
        Row(
            scenario=NAME,
            load=load,
            latency=cancel_latency,
            throughput=rate,
            throughput_unit="cancels/s",
            errors=failures + missing,
            target=f"p99 ≤ {TARGET_P99_MS:.0f} ms",
            met=(
                cancel_latency.p99 is not None
                and cancel_latency.p99 <= TARGET_P99_MS
                and failures + missing == 0
            ),
            notes=f"{missing} never cancelled, {failures} not placed",
        ),
        Row(
            scenario="expiry: OrderExpired after expiresAt",
            load=load,
            latency=Latency.of(late_expire),
            notes="diagnostic: when expiration fired",
        ),
    ]


SCENARIO = Scenario(
    "expiry",
    SINGLE,
    run,
    "orders falling due within 5 s; CANCELLED (OrderCancelled published) minus expiresAt",
)
