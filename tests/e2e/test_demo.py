"""`ticketing demo` against a running stack, as a newcomer runs it (`make demo`): the demo's events
are found by a performer's prefix, by their city and by their dates, they have listings at
prices, the sellers can sign in with the documented password, and a second run creates nothing
new."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from common.devstack.demo.plan import SELLER_PASSWORD, make_plan, plain, week_start
from tests.support.market import Api

pytestmark = pytest.mark.e2e

EVENTS = 12
SEED = 4242  # a seed of its own: the demo's events are told from other tests' by their refs
SEARCH = """
query($q: String, $filter: EventFilter) {
  events(query: $q, filter: $filter, first: 50) {
    totalCount nodes { id name startsAt venue { city } }
  }
}"""
EVENT = """
query($id: ID!) {
  event(id: $id) {
    ticketCount lowestPrice { amount currencyCode }
    listings(first: 20) { nodes { quantity price { amount currencyCode } splitRule } }
  }
}"""
SIGN_IN = """mutation($input: SignInInput!) {
  signIn(input: $input) { token userErrors { code } } }"""
MY_LISTINGS = "{ myListings(first: 100) { nodes { id } } }"


def ticketing_demo(stack, start: str) -> subprocess.CompletedProcess:
    args = ["demo", "--events", str(EVENTS), "--seed", str(SEED), "--start", start]
    return subprocess.run(
        [str(Path(sys.executable).parent / "ticketing"), *args],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def seller_listings(api: Api, email: str) -> int:
    signed = api.data(SIGN_IN, input={"email": email, "password": SELLER_PASSWORD})["signIn"]
    assert signed["token"], signed
    return len(api.data(MY_LISTINGS, signed["token"])["myListings"]["nodes"])


def test_the_demo_fills_the_marketplace_once(stack, client) -> None:
    api = Api(client)
    today = datetime.now(UTC).date()
    plan = make_plan(EVENTS, SEED, week_start(today))
    first = ticketing_demo(stack, today.isoformat())
    assert first.returncode == 0, first.stderr
    assert f"{EVENTS} created" in first.stdout
    assert f"listings: {len(plan.listings)} created, 0 already there" in first.stdout
    assert "seller1@demo.ticketing.test" in first.stdout and "/  (search for" in first.stdout

    # By a prefix of each of a performer's words, typed without accents.
    performer = plan.events[0].performers[0]
    typed = " ".join(plain(word)[:4] for word in performer.split())
    billed = {row["name"] for row in plan.rows if performer in row["performers"]}
    api.until(
        lambda: api.data(SEARCH, q=typed)["events"]["nodes"],
        lambda nodes: billed <= {n["name"] for n in nodes},
    )

    # By city, and by a date range around the first event's start.
    event = plan.events[0]
    by_city = api.until(
        lambda: api.data(SEARCH, filter={"city": event.venue.city})["events"]["nodes"],
        lambda nodes: event.name in {n["name"] for n in nodes},
    )
    assert {n["venue"]["city"] for n in by_city} == {event.venue.city}
    starts = [datetime.fromisoformat(str(row["starts_at"])) for row in plan.rows]
    earliest = min(starts)
    window = {
        "startsFrom": (earliest - timedelta(days=1)).replace(tzinfo=UTC).isoformat(),
        "startsTo": (earliest + timedelta(days=1)).replace(tzinfo=UTC).isoformat(),
    }
    in_window = api.data(SEARCH, filter=window)["events"]["nodes"]
    assert plan.rows[starts.index(earliest)]["name"] in {n["name"] for n in in_window}

    # The events the plan lists seats for have them on sale, at the plan's prices.
    listed = plan.listings[0]
    row = next(r for r in plan.rows if r["external_ref"] == listed.external_ref)
    [node] = [
        n
        for n in api.until(
            lambda: api.data(SEARCH, filter={"city": row["city"]})["events"]["nodes"],
            lambda nodes: row["name"] in {n["name"] for n in nodes},
        )
        if n["name"] == row["name"] and n["startsAt"][:10] == str(row["starts_at"])[:10]
    ]
    shown = api.until(
        lambda: api.data(EVENT, id=node["id"])["event"],
        lambda e: e["ticketCount"] > 0,
    )
    planned = {str(x.seats.price) for x in plan.listings if x.external_ref == row["external_ref"]}
    assert {n["price"]["amount"] for n in shown["listings"]["nodes"]} == planned
    counts = [seller_listings(api, email) for email in plan.sellers]
    assert sum(counts) == len(plan.listings)

    # Again: the sentinel counts do not move, and the demo says it created nothing.
    second = ticketing_demo(stack, today.isoformat())
    assert second.returncode == 0, second.stderr
    assert f"0 created, 0 updated, {EVENTS} unchanged" in second.stdout
    assert f"listings: 0 created, {len(plan.listings)} already there" in second.stdout
    assert [seller_listings(api, email) for email in plan.sellers] == counts
    again = api.data(SEARCH, filter={"city": event.venue.city})["events"]["nodes"]
    assert sorted(n["id"] for n in again) == sorted(n["id"] for n in by_city)
