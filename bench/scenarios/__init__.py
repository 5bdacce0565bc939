"""Every scenario, in the order `make bench` runs them. Add a new one here."""

from __future__ import annotations

from bench.scenarios import exactly_once, expiry, propagation, relay
from bench.scenarios.base import Scenario

SCENARIOS: tuple[Scenario, ...] = (
    expiry.SCENARIO,
    propagation.WARM_SCENARIO,
    relay.SCENARIO,
    # Last on its stack: nothing may run after it while the stack idles.
    propagation.IDLE_SCENARIO,
    exactly_once.SCENARIO,
)


def by_name(name: str) -> Scenario:
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise KeyError(name)
