"""`ticketing demo`: fills the running `ticketing run` with the demo's plan (plan.py). The events
go through the catalogue's import (its validation, upserted by external_ref), the sellers and
their listings through the gateway's public GraphQL API (sign-up or sign-in, createListing with
the plan's idempotency keys). A listing a seller already has is not sent again, so running it
twice changes nothing. Exit status: 0 done, 1 something was refused, 2 no stack to fill."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TextIO

import httpx

from common import run_state
from common.config import CommonSettings
from common.devstack.demo.plan import SELLER_PASSWORD, DemoPlan, PlannedListing, make_plan
from common.devstack.demo.sellers import DemoError, Gateway
from common.settings import ConfigError
from gateway.global_ids import encode
from svc_catalogue.entrypoints.cli import ImportCallError, import_rows
from svc_catalogue.entrypoints.import_file import object_rows

PROGRAM = "ticketing demo"
# Listings sent at once: the gateway and tickets keep up, and a laptop stays usable meanwhile.
CONCURRENT_LISTINGS = 4
NO_STACK = (
    "no `ticketing run` is running in {run_dir} (TICKETING_RUN_DIR). Start the stack with "
    "`make run` in another terminal, wait for `ready`, then run `make demo`."
)


@dataclass(frozen=True)
class StackAddresses:
    env: dict[str, str]  # with the catalogue's port and the run's service keys
    gateway_url: str


def stack_addresses(env: Mapping[str, str]) -> StackAddresses:
    """Where the running stack's catalogue and gateway listen (its stack.json), with the shared
    settings (common/run_state.py). RunStateError when no stack runs in the run directory."""
    run_dir = run_state.run_dir_of(env)
    state = run_state.read(run_dir)
    if state is None:
        raise run_state.RunStateError(NO_STACK.format(run_dir=run_dir))
    merged = run_state.with_running_stack(env)
    for name in ("CATALOGUE_PORT", "GATEWAY_PORT"):
        if not merged.get(name) and state.settings.get(name):
            merged[name] = state.settings[name]
    gateway_port = merged.get("GATEWAY_PORT") or "8000"
    return StackAddresses(merged, f"http://127.0.0.1:{gateway_port}")


def run_demo(
    addresses: StackAddresses,
    events: int,
    seed: int,
    start: date,
    out: TextIO = sys.stdout,
) -> int:
    began = time.monotonic()
    plan = make_plan(events, seed, start)
    try:
        report = import_rows(object_rows(list(plan.rows)), CommonSettings.from_env(addresses.env))
    except (ConfigError, ValueError) as exc:
        print(f"{PROGRAM}: configuration error: {exc}", file=sys.stderr)
        return 2
    except ImportCallError as exc:
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return 1
    for failure in report.failures:
        print(f"{PROGRAM}: event {failure}", file=sys.stderr)
    print(f"events: {report.summary()} (through the catalogue's import)", file=out)
    # The gateway's ids of the catalogue's events (the demo is this repository's own tool).
    event_ids = {ref: encode("Event", raw) for ref, raw in report.event_ids.items()}
    with httpx.Client(base_url=addresses.gateway_url, timeout=30) as client:
        try:
            counts = _list_seats(Gateway(client), plan, event_ids)
        except (DemoError, httpx.HTTPError) as exc:
            print(f"{PROGRAM}: {exc}", file=sys.stderr)
            return 1
    print(
        f"sellers: {counts['signed up']} signed up, {counts['signed in']} existed "
        f"({plan.sellers[0]} ... {plan.sellers[-1]}, password {SELLER_PASSWORD})",
        file=out,
    )
    print(
        f"listings: {counts['created']} created, {counts['there']} already there "
        f"({len(plan.listings)} planned)",
        file=out,
    )
    print(f"done in {time.monotonic() - began:.0f} s", file=out)
    print(f'Web app: {addresses.gateway_url}/  (search for "{plan.search_hint()}")', file=out)
    print(f"GraphQL: {addresses.gateway_url}/graphql", file=out)
    return 1 if report.counts["failed"] else 0


def _list_seats(gateway: Gateway, plan: DemoPlan, event_ids: dict[str, str]) -> Counter[str]:
    """Each seller signed up or in; each planned listing of an imported event created, unless
    its seller already has it."""
    counts: Counter[str] = Counter()
    tokens = []
    for email in plan.sellers:
        token, new = gateway.session(email, SELLER_PASSWORD)
        counts["signed up" if new else "signed in"] += 1
        tokens.append(token)
    listed = [gateway.listed(token) for token in tokens]
    todo: list[PlannedListing] = []
    for listing in plan.listings:
        event_id = event_ids.get(listing.external_ref)
        if event_id is None:
            continue  # its event was refused (said above)
        if (event_id, listing.identity()) in listed[listing.seller]:
            counts["there"] += 1
        else:
            todo.append(listing)

    def create(listing: PlannedListing) -> None:
        event_id = event_ids[listing.external_ref]
        gateway.create_listing(tokens[listing.seller], event_id, listing)

    with ThreadPoolExecutor(CONCURRENT_LISTINGS) as pool:
        for _ in pool.map(create, todo):
            counts["created"] += 1
    return counts


def today() -> date:
    return datetime.now(UTC).date()
