"""Catalogue events through the real gateway (`python -m gateway`, its own process) and the real
catalogue service (SecantusDB, RabbitMQ, Redis): an operator creates and cancels an event, anyone
finds it with `events(...)` (facets, totalCount) and reads it by id; a member may not create."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from common.service import ServiceProcess
from svc_catalogue.bootstrap import bootstrap
from svc_catalogue.config import CatalogueSettings
from tests.integration.test_ticket_cache_gateway import Gateway
from tests.support import servers
from tests.support.tokens import issuer_for
from tests.support.waiting import until_async

pytestmark = pytest.mark.integration

CREATE = """
mutation ($name: String!, $city: String!, $key: String!) {
  createEvent(input: {name: $name, performers: [$name], venueName: "Arena", city: $city,
    country: "GB", timeZone: "Europe/London", startsAt: "2027-06-01T19:00:00Z",
    endsAt: "2027-06-01T22:00:00Z", category: CONCERT, idempotencyKey: $key}) {
    event { id name version venue { slug } }
    userErrors { code field }
  }
}
"""
SEARCH = """
query ($q: String) {
  events(query: $q, first: 10) {
    totalCount
    nodes { id name status }
    facets { cities { value count } }
  }
}
"""
CANCEL = """
mutation ($id: ID!) {
  changeEventStatus(input: {id: $id, expectedVersion: 0, status: CANCELLED}) {
    event { status } userErrors { code field }
  }
}
"""


@contextlib.asynccontextmanager
async def gateway(env: dict[str, str], catalogue_port: int) -> AsyncIterator[Gateway]:
    port = servers.free_port()
    settings = {
        **env,
        "GATEWAY_PORT": str(port),
        "GATEWAY_ADMIN_PORT": str(servers.free_port()),
        "CATALOGUE_ADDR": f"127.0.0.1:{catalogue_port}",
    }
    proc = await asyncio.to_thread(
        subprocess.Popen, [sys.executable, "-m", "gateway"], env=servers.environ(settings)
    )
    try:
        await asyncio.to_thread(servers.wait_for_port, port, 30, proc)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield Gateway(client)
    finally:
        await asyncio.to_thread(servers.stop_process, proc)


@pytest.fixture
async def catalogue(env) -> AsyncIterator[ServiceProcess]:
    process = bootstrap(CatalogueSettings.from_env({**env, "SEARCH_POLL_SECONDS": "0.05"}))
    await process.start("127.0.0.1", 0)
    yield process
    await process.stop()


def token(env, roles: tuple[str, ...] = ()) -> str:
    user_id = str(uuid.uuid4())
    return issuer_for(env, 600).issue(user_id, f"{user_id[:8]}@example.com", roles=roles)[0]


async def test_an_operator_creates_anyone_finds_and_a_cancelled_event_leaves_search(env, catalogue):
    admin, member = token(env, ("admin",)), token(env)
    async with gateway(env, catalogue.port) as api:
        refused = await api.data(CREATE, member, name="Muse", city="London", key="k0")
        assert refused["createEvent"] == {
            "event": None,
            "userErrors": [{"code": "FORBIDDEN", "field": None}],
        }
        created = []
        for i, (name, city) in enumerate([("Arctic Monkeys", "Zürich"), ("Muse", "London")]):
            payload = (await api.data(CREATE, admin, name=name, city=city, key=f"k{i}"))[
                "createEvent"
            ]
            assert payload["userErrors"] == [], payload
            created.append(payload["event"])
        assert created[0]["venue"]["slug"] == "venue:arena-zurich"

        async def search(q: str | None = None) -> dict:
            return (await api.data(SEARCH, q=q))["events"]

        found = await until_async(lambda: search("arct zur"), lambda r: r["totalCount"] == 1)
        assert [n["id"] for n in found["nodes"]] == [created[0]["id"]]
        everything = await until_async(search, lambda r: r["totalCount"] == 2)
        assert everything["facets"]["cities"] == [
            {"value": "London", "count": 1},
            {"value": "Zürich", "count": 1},
        ]

        cancelled = await api.data(CANCEL, admin, id=created[1]["id"])
        assert cancelled["changeEventStatus"] == {
            "event": {"status": "CANCELLED"},
            "userErrors": [],
        }
        await until_async(search, lambda r: r["totalCount"] == 1)
        by_id = await api.data(
            "query ($id: ID!) { event(id: $id) { name status } }", id=created[1]["id"]
        )
        assert by_id["event"] == {"name": "Muse", "status": "CANCELLED"}
