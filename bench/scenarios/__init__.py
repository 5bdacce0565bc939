"""Every scenario, in the order `make bench` runs them. Add a new one here."""

from __future__ import annotations

from bench.scenarios import (
    exactly_once,
    expiry,
    gateway_load,
    memory,
    propagation,
    purchase,
    recs,
    relay,
    reports,
    search,
    search_gateway,
    slow_loris,
    subscriptions,
    ticket_read,
)
from bench.scenarios.base import Scenario

SCENARIOS: tuple[Scenario, ...] = (
    expiry.SCENARIO,
    propagation.WARM_SCENARIO,
    relay.SCENARIO,
    # Last on its stack: nothing may run after it while the stack idles.
    propagation.IDLE_SCENARIO,
    exactly_once.SCENARIO,
    # Two replicas: subscribers on both gateways.
    subscriptions.SCENARIO,
    # The gateway with its ticket cache off; the Stripe stand-in without latency.
    ticket_read.UNCACHED_SCENARIO,
    # The gateway as shipped (cache on); the Stripe stand-in.
    ticket_read.CACHED_SCENARIO,
    gateway_load.TICKETS_SCENARIO,
    gateway_load.ORDERS_SCENARIO,
    purchase.STANDIN_SCENARIO,
    gateway_load.CREATE_TICKET_SCENARIO,
    # Search through the gateway over 10,000 events and 100,000 listings loaded into the stack.
    search_gateway.SCENARIO,
    # Last on its stack: memory after everything above loaded it.
    memory.SCENARIO,
    # No stack: the recommender's offline evaluation (bench/recs/).
    recs.SCENARIO,
    # No stack: the analytics reports over a million events in DuckDB.
    reports.SCENARIO,
    # No stack: the event search index over 10,000 events in the bench's process.
    search.SCENARIO,
    # No stack: a gateway of its own under 300 slow clients.
    slow_loris.SCENARIO,
)


def by_name(name: str) -> Scenario:
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise KeyError(name)
