"""Signed-out /graphql limits sized for a shared address (issue 18): the visitors behind one
address (an office NAT) browsing at the modelled pace are never refused; one visitor hammering
is held by the limit per visitor (its `anon_id` cookie) without using up its address's
allowance; clients that keep no cookie are held by the limit per address.

The real gateway app (its Redis: the counters), no service behind it: `{ __typename }` is
answered by the gateway alone. The limits are the defaults scaled to a short window: the same
requests per second, so the model (docs/security.md) is what is tested."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis

from gateway.app import create_app
from gateway.config import GatewaySettings
from gateway.visitors import COOKIE
from tests.integration.test_persisted_queries import settings

pytestmark = pytest.mark.integration

QUERY = {"query": "{ __typename }"}
BASE_URL = "https://gateway:8000"  # the anon_id cookie is Secure
WINDOW_SECONDS = 2  # the defaults' minute, scaled down
# The model: a visitor browsing briskly, one request every second (docs/security.md), and as
# many such visitors behind one address as the defaults allow for, by half.
PACE_SECONDS = 1.0
VISITORS_BEHIND_ONE_ADDRESS = 10
ROUNDS = 3 * WINDOW_SECONDS  # three windows of browsing


def scaled(limit: str) -> int:
    """The default `<limit>_LIMIT` per WINDOW_SECONDS instead of its own window."""
    defaults = GatewaySettings.from_env({}, jwt_public_key="unused")
    amount = getattr(defaults, f"{limit}_limit")
    window = getattr(defaults, f"{limit}_window_seconds")
    return math.ceil(amount * WINDOW_SECONDS / window)


@pytest.fixture
async def browsers(redis_url: str, tmp_path: Path) -> AsyncIterator[Browsers]:
    namespace = f"t{uuid.uuid4().hex[:12]}"
    (tmp_path / "dist").mkdir()
    (tmp_path / "clients").mkdir()
    limited = settings(
        redis_url,
        namespace,
        tmp_path / "dist",
        tmp_path / "clients",
        graphql_visitor_limit=scaled("graphql_visitor"),
        graphql_visitor_window_seconds=WINDOW_SECONDS,
        graphql_address_limit=scaled("graphql_address"),
        graphql_address_window_seconds=WINDOW_SECONDS,
    )
    browsers = Browsers(httpx.ASGITransport(app=create_app(limited)))
    yield browsers
    await browsers.close()
    with redis.Redis.from_url(redis_url) as store:
        keys = list(store.scan_iter(f"{namespace}:*"))
        if keys:
            store.delete(*keys)


class Browsers:
    """Clients of one app, all from the same address (ASGITransport's), each with its own
    cookie jar."""

    def __init__(self, transport: httpx.ASGITransport) -> None:
        self.transport = transport
        self.opened: list[httpx.AsyncClient] = []

    def new(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=self.transport, base_url=BASE_URL)
        self.opened.append(client)
        return client

    async def close(self) -> None:
        for client in self.opened:
            await client.aclose()


async def test_the_visitors_behind_one_address_browsing_at_the_modelled_pace_are_not_refused(
    browsers,
):
    visitors = [browsers.new() for _ in range(VISITORS_BEHIND_ONE_ADDRESS)]
    statuses = []
    start = time.monotonic()
    for round_ in range(ROUNDS):
        for visitor in visitors:
            statuses.append((await visitor.post("/graphql", json=QUERY)).status_code)
        await asyncio.sleep(max(0.0, start + (round_ + 1) * PACE_SECONDS - time.monotonic()))
    assert len(statuses) == VISITORS_BEHIND_ONE_ADDRESS * ROUNDS
    assert set(statuses) == {200}
    assert all(visitor.cookies.get(COOKIE) for visitor in visitors)  # each kept its own id


async def test_one_visitor_hammering_is_held_by_its_own_limit_not_its_addresss(browsers):
    hammering, neighbour = browsers.new(), browsers.new()
    # As many as the address allows in a window: the visitor limit must stop it well before.
    statuses = [
        (await hammering.post("/graphql", json=QUERY)).status_code
        for _ in range(scaled("graphql_address"))
    ]
    # Its limit, and a little more should the window turn meanwhile (the counts are approximate).
    assert statuses.count(200) <= 2 * scaled("graphql_visitor") + 1, statuses
    last = await hammering.post("/graphql", json=QUERY)
    assert last.status_code == 429 and int(last.headers["retry-after"]) >= 1
    assert last.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert last.json()["errors"][0]["message"].startswith("Too many requests.")
    # Its refused requests were not counted against the address: the neighbour is served.
    assert (await neighbour.post("/graphql", json=QUERY)).status_code == 200


@pytest.mark.parametrize("cookie", ["none", "made up each time"])
async def test_clients_that_keep_no_cookie_are_held_by_the_address_limit(browsers, cookie):
    client = browsers.new()
    statuses = []
    for _ in range(scaled("graphql_address") + 10):
        client.cookies.clear()
        if cookie != "none":
            client.cookies.set(COOKIE, str(uuid.uuid4()))
        statuses.append((await client.post("/graphql", json=QUERY)).status_code)
    assert 429 in statuses and statuses[0] == 200
    last = await client.post("/graphql", json=QUERY)
    assert last.status_code == 429
    assert "from this address" in last.json()["errors"][0]["message"]
