"""Exactly once with 3 replicas of every service: every event reaches the exchange once, whether
it was committed by a request (createTicket spread over the replicas) or found in a backlog that
all three relays see at once. Counted per event id on a probe bound to the exchange."""

from __future__ import annotations

from dataclasses import replace

from bench.client import Market, bounded
from bench.outbox_load import KEY, commit_events, user_id_of, wait_delivered
from bench.probe import Arrival, EventProbe
from bench.report import Row
from bench.scenarios.base import THREE_REPLICAS, Context, Scenario

# Relays poll every second: a duplicate from another replica shows up within a few seconds.
QUIET_SECONDS = 5.0


def _row(name: str, load: str, events: int, delivered) -> Row:
    messages = sum(delivered.per_event.values())
    errors = delivered.duplicates + delivered.missing
    return Row(
        scenario=name,
        load=load,
        count=events,
        errors=errors,
        target="0 duplicates, 0 missing",
        met=errors == 0,
        notes=f"{messages} messages for {events} events: {delivered.duplicates} duplicates, "
        f"{delivered.missing} missing",
    )


async def run(ctx: Context) -> list[Row]:
    replicas = len(ctx.stack.replicas)
    tickets = ctx.load(300, 60)
    backlog = ctx.load(2000, 500)
    probe = EventProbe(ctx.stack.amqp_url, ctx.stack.namespace, ("ticket.created", KEY))
    try:
        markets = [Market(ctx.stack, replica=i) for i in range(replicas)]
        seller = await markets[0].sign_up()
        ctx.say(f"exactly-once: {tickets} tickets over {replicas} replicas")
        created = await bounded(
            [lambda m=markets[i % replicas]: m.create_ticket(seller) for i in range(tickets)],
            concurrency=8,
        )
        ticket_ids = {t for t in created if isinstance(t, str)}

        def ticket_id(arrival: Arrival) -> str:
            return arrival.json().get("id", "")

        by_request = await wait_delivered(
            probe, ticket_ids, ticket_id, "ticket.created", timeout=120, quiet_seconds=QUIET_SECONDS
        )
        ctx.say(f"exactly-once: a backlog of {backlog} events in tickets' outbox")
        expected = await commit_events(ctx.stack, "tickets", backlog)
        from_backlog = await wait_delivered(
            probe, expected, user_id_of, KEY, timeout=300, quiet_seconds=QUIET_SECONDS
        )
    finally:
        probe.close()
    failed = tickets - len(ticket_ids)
    request_row = _row(
        f"exactly-once: createTicket, {replicas} replicas",
        f"{tickets} createTicket round-robin over {replicas} replicas",
        len(ticket_ids),
        by_request,
    )
    if failed:
        request_row = replace(request_row, errors=request_row.errors + failed)
    return [
        request_row,
        _row(
            f"exactly-once: outbox backlog, {replicas} replicas",
            f"{backlog} events committed at once in tickets' outbox",
            backlog,
            from_backlog,
        ),
    ]


SCENARIO = Scenario(
    "exactly-once", THREE_REPLICAS, run, "each event reaches the exchange once with 3 replicas"
)
