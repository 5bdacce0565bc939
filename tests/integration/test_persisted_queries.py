"""Persisted queries (docs/api.md PQ-1..3, gateway/persisted_queries.py) through the real gateway
application (`create_app`, in this process) and the machine's Redis, in a namespace of the test's
own. No service is needed: the operations are `__typename`s and `currentUser` without a token
(null), which answer without one; a subscription's refusal comes before any service is asked.

- APQ: a hash alone is PERSISTED_QUERY_NOT_FOUND until a request sends it with its text; then it
  runs by hash, from another gateway too (one Redis), and its TTL is 24 h from its last use; a
  hash that is not its text's is refused and nothing is kept;
- GET: queries by text or hash; a mutation is 405; with the session cookie a preflight header;
- allow-list: only the registered operations (the web build's manifest, a client's) run, by hash
  or exact text; nothing a request sends is kept;
- graphql-ws: a `subscribe` by hash, and the allow-list's refusal.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from starlette.testclient import TestClient

from common.jwt import generate_key_pair
from common.settings import ConfigError
from gateway import global_ids
from gateway.app import create_app
from gateway.config import GatewaySettings
from gateway.csrf import CSRF_REFUSED
from gateway.persisted_queries import (
    MANIFEST_FORMAT,
    OPERATION_NOT_REGISTERED,
    PERSISTED_QUERY_NOT_FOUND,
    STORE_TTL_SECONDS,
    WEB_MANIFEST,
    ManifestError,
    sha256_hex,
)

pytestmark = pytest.mark.integration

ME = "query Me { currentUser { id } }"
TYPENAME = "query Typename { __typename }"
MUTATION = "mutation Root { __typename }"
# orderUpdated: the one subscription both the current schema and v1 have.
SUBSCRIPTION = "subscription Watch($id: ID!) { orderUpdated(id: $id) { id } }"

# A well-formed id of an order nobody can see: the subscription runs as far as its sign-in check.
ORDER_ID = global_ids.encode("Order", "0b9e4a7c-2d1f-4e63-9a8b-5c7d3e2f1a04")


def hashed(text: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(text)}}


def manifest(*texts: str, kind: str = "query") -> dict:
    operations = [
        {"id": sha256_hex(t), "name": t.split()[1].split("(")[0], "type": kind, "body": t}
        for t in texts
    ]
    return {"format": MANIFEST_FORMAT, "version": 1, "operations": operations}


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    ns = f"t{uuid.uuid4().hex[:12]}"
    yield ns
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(f"{ns}:*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def store(redis_url: str, namespace: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as client:
        yield client


def apq_keys(store: redis.Redis, namespace: str) -> list[bytes]:
    return sorted(store.scan_iter(f"{namespace}:apq:*"))


@pytest.fixture
def web_dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / WEB_MANIFEST).write_text(json.dumps(manifest(ME)))
    return dist


@pytest.fixture
def clients_dir(tmp_path: Path) -> Path:
    clients = tmp_path / "clients"
    (clients / "ios").mkdir(parents=True)
    (clients / "ios" / "4.2.0.json").write_text(json.dumps(manifest(TYPENAME)))
    (clients / "ios" / "4.3.0.json").write_text(json.dumps(manifest(MUTATION, kind="mutation")))
    return clients


def settings(redis_url: str, namespace: str, web_dist: Path, clients: Path, **overrides):
    _, public = generate_key_pair()
    values = {
        **{f"{s}_addr": "127.0.0.1:9" for s in ("auth", "tickets", "orders", "payments")},
        "expiration_addr": "127.0.0.1:9",
        "redis_url": redis_url,
        "ticketing_namespace": namespace,
        "ticket_cache_enabled": False,
        "behaviour_events_enabled": False,
        "graphql_user_limit": 0,
        "graphql_visitor_limit": 0,
        "graphql_address_limit": 0,
        "web_dist_dir": str(web_dist),
        "persisted_clients_dir": str(clients),
    }
    return GatewaySettings.from_env({}, jwt_public_key=public, **{**values, **overrides})


@pytest.fixture
def make_settings(redis_url, namespace, web_dist, clients_dir):
    def make(**overrides) -> GatewaySettings:
        return settings(redis_url, namespace, web_dist, clients_dir, **overrides)

    return make


@pytest.fixture
async def gateway(make_settings) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(make_settings()) as client:
        yield client


def _client(gateway_settings: GatewaySettings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(gateway_settings))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway:8000")


def only_error(reply: httpx.Response) -> dict:
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body.get("data") is None, body
    [error] = body["errors"]
    return error


# -- APQ -----------------------------------------------------------------------------------------


async def test_an_unknown_hash_is_a_miss_then_registered_by_its_text_then_runs_by_hash(
    gateway, make_settings, store, namespace
):
    text = "query Fresh { currentUser { id } __typename }"
    miss = await gateway.post("/graphql", json={"extensions": hashed(text)})
    error = only_error(miss)
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == PERSISTED_QUERY_NOT_FOUND
    assert apq_keys(store, namespace) == []

    register = await gateway.post("/graphql", json={"query": text, "extensions": hashed(text)})
    assert register.json() == {"data": {"currentUser": None, "__typename": "Query"}}
    key = f"{namespace}:apq:{sha256_hex(text)}".encode()
    assert apq_keys(store, namespace) == [key]
    assert store.get(key).decode() == text
    assert STORE_TTL_SECONDS - 60 < store.ttl(key) <= STORE_TTL_SECONDS

    # Used, it is kept another 24 h from now.
    store.expire(key, 100)
    hit = await gateway.post("/graphql", json={"extensions": hashed(text)})
    assert hit.json() == {"data": {"currentUser": None, "__typename": "Query"}}
    assert store.ttl(key) > STORE_TTL_SECONDS - 60

    # Another gateway (a replica) knows it: the store is Redis, not a process's memory.
    async with _client(make_settings()) as replica:
        again = await replica.post("/graphql", json={"extensions": hashed(text)})
        assert again.json() == {"data": {"currentUser": None, "__typename": "Query"}}


async def test_a_hash_that_is_not_its_texts_is_refused_and_nothing_is_kept(
    gateway, store, namespace
):
    claimed = hashed("query Other { __typename }")
    reply = await gateway.post("/graphql", json={"query": TYPENAME, "extensions": claimed})
    error = only_error(reply)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "sha256Hash" in error["message"]
    assert apq_keys(store, namespace) == []
    # Neither text is known by that hash now.
    miss = await gateway.post("/graphql", json={"extensions": claimed})
    assert only_error(miss)["extensions"]["code"] == PERSISTED_QUERY_NOT_FOUND


async def test_a_text_that_does_not_validate_is_not_kept(gateway, store, namespace):
    text = "query Broken { noSuchField }"
    reply = await gateway.post("/graphql", json={"query": text, "extensions": hashed(text)})
    assert only_error(reply)["extensions"]["code"] == "BAD_USER_INPUT"
    assert apq_keys(store, namespace) == []


@pytest.mark.parametrize(
    "persisted",
    [
        {"version": 2, "sha256Hash": "0" * 64},
        {"version": 1, "sha256Hash": "not-a-hash"},
        {"version": 1},
        "abc",
    ],
)
async def test_a_malformed_persisted_query_extension_is_refused(gateway, persisted):
    reply = await gateway.post("/graphql", json={"extensions": {"persistedQuery": persisted}})
    assert only_error(reply)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_plain_text_requests_still_run_in_apq_mode(gateway, store, namespace):
    reply = await gateway.post("/graphql", json={"query": "{ __typename }"})
    assert reply.json() == {"data": {"__typename": "Query"}}
    assert apq_keys(store, namespace) == []  # nothing registered without a hash


# -- GET (PQ-2) ----------------------------------------------------------------------------------


def get_params(text: str | None = None, *, by_hash: bool = False, **variables) -> dict:
    params = {}
    if text is not None and not by_hash:
        params["query"] = text
    if by_hash:
        params["extensions"] = json.dumps(hashed(text))
    if variables:
        params["variables"] = json.dumps(variables)
    return params


async def test_a_query_by_get_by_text_and_by_hash(gateway):
    text = "query Get { currentUser { id } }"
    accept = {"accept": "application/json"}
    by_text = await gateway.get("/graphql", params=get_params(text), headers=accept)
    assert by_text.json() == {"data": {"currentUser": None}}

    miss = await gateway.get("/graphql", params=get_params(text, by_hash=True), headers=accept)
    assert only_error(miss)["extensions"]["code"] == PERSISTED_QUERY_NOT_FOUND
    await gateway.post("/graphql", json={"query": text, "extensions": hashed(text)})
    # curl's `Accept: */*`: still the operation, not GraphiQL's page.
    hit = await gateway.get(
        "/graphql", params=get_params(text, by_hash=True), headers={"accept": "*/*"}
    )
    assert hit.json() == {"data": {"currentUser": None}}


async def test_a_mutation_by_get_is_405_and_does_not_run(gateway, store, namespace):
    # Sent with its hash: had it run, its text would now be kept (the sentinel).
    with_hash = {**get_params(MUTATION), "extensions": json.dumps(hashed(MUTATION))}
    for params in (get_params(MUTATION), with_hash):
        reply = await gateway.get("/graphql", params=params)
        assert reply.status_code == 405, reply.text
        assert reply.headers["allow"] == "POST"
        [error] = reply.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "mutations" in error["message"]
    assert apq_keys(store, namespace) == []
    # By hash alone too, once the mutation is registered (by POST, where it runs).
    register = {"query": MUTATION, "extensions": hashed(MUTATION)}
    posted = await gateway.post("/graphql", json=register)
    assert posted.json() == {"data": {"__typename": "Mutation"}}
    by_hash = await gateway.get("/graphql", params=get_params(MUTATION, by_hash=True))
    assert by_hash.status_code == 405


async def test_a_get_with_the_session_cookie_needs_a_preflight_header(gateway):
    await gateway.post("/graphql", json={"query": TYPENAME, "extensions": hashed(TYPENAME)})
    cookie = {"cookie": "session=some-token"}
    for params in (get_params(TYPENAME), get_params(TYPENAME, by_hash=True)):
        refused = await gateway.get("/graphql", params=params, headers=cookie)
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"]["code"] == CSRF_REFUSED
        ok = await gateway.get(
            "/graphql", params=params, headers={**cookie, "apollo-require-preflight": "true"}
        )
        assert ok.json() == {"data": {"__typename": "Query"}}


# -- the allow-list (PQ-3) -----------------------------------------------------------------------


@pytest.fixture
async def allowlist(make_settings) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(make_settings(graphql_persisted_queries="allowlist")) as client:
        yield client


async def test_the_allowlist_refuses_what_is_not_registered_and_keeps_nothing(
    allowlist, store, namespace
):
    unregistered = "query Sneaky { currentUser { id } }"
    for body in (
        {"query": unregistered},
        {"query": unregistered, "extensions": hashed(unregistered)},
        {"extensions": hashed(unregistered)},
        {"query": ME + " "},  # the registered text, reformatted: another operation
    ):
        error = only_error(await allowlist.post("/graphql", json=body))
        assert error["extensions"]["code"] == OPERATION_NOT_REGISTERED, body
    assert apq_keys(store, namespace) == []
    # Refused by GET as well.
    get = await allowlist.get("/graphql", params={"query": unregistered})
    assert only_error(get)["extensions"]["code"] == OPERATION_NOT_REGISTERED


async def test_the_allowlist_runs_registered_operations_by_hash_and_by_text(allowlist):
    # The web build's manifest (ME) and the ios client's two versions (TYPENAME, MUTATION).
    for text, data in (
        (ME, {"currentUser": None}),
        (TYPENAME, {"__typename": "Query"}),
        (MUTATION, {"__typename": "Mutation"}),
    ):
        for body in ({"extensions": hashed(text)}, {"query": text}):
            reply = await allowlist.post("/graphql", json=body)
            assert reply.json() == {"data": data}, (text, body)
    by_get = await allowlist.get("/graphql", params=get_params(ME, by_hash=True))
    assert by_get.json() == {"data": {"currentUser": None}}


def test_the_allowlist_needs_the_web_apps_manifest_when_it_serves_the_app(make_settings, web_dist):
    (web_dist / WEB_MANIFEST).unlink()
    with pytest.raises(ManifestError, match="make web"):
        create_app(make_settings(graphql_persisted_queries="allowlist"))
    create_app(make_settings(graphql_persisted_queries="allowlist", web_app=False))
    create_app(make_settings())  # APQ mode runs without it


def test_a_manifest_whose_id_is_not_its_bodys_hash_stops_the_gateway(make_settings, clients_dir):
    bad = manifest(TYPENAME)
    bad["operations"][0]["id"] = sha256_hex("something else")
    (clients_dir / "ios" / "4.2.0.json").write_text(json.dumps(bad))
    with pytest.raises(ManifestError, match=r"4\.2\.0\.json"):
        create_app(make_settings(graphql_persisted_queries="allowlist"))


def test_the_mode_setting_is_checked(make_settings):
    with pytest.raises(ConfigError, match="GRAPHQL_PERSISTED_QUERIES"):
        make_settings(graphql_persisted_queries="off")


# -- subscriptions (graphql-transport-ws) --------------------------------------------------------


def subscribe(make_settings, payloads: list[dict], **overrides) -> list[dict]:
    """Each payload subscribed in turn on one connection; the first answer to each."""
    client = TestClient(create_app(make_settings(**overrides)))
    answers = []
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json()["type"] == "connection_ack"
        for number, payload in enumerate(payloads):
            ws.send_json({"id": str(number), "type": "subscribe", "payload": payload})
            answer = ws.receive_json()
            assert answer["id"] == str(number)
            answers.append(answer)
            if answer["type"] == "next":  # a stream that ended on its error completes
                assert ws.receive_json() == {"id": str(number), "type": "complete"}
    return answers


def codes(answer: dict) -> list[str]:
    errors = answer["payload"] if answer["type"] == "error" else answer["payload"]["errors"]
    return [error["extensions"]["code"] for error in errors]


def test_a_subscription_by_hash_over_graphql_ws(make_settings, store, namespace):
    variables = {"id": ORDER_ID}
    miss, registered, hit = subscribe(
        make_settings,
        [
            {"variables": variables, "extensions": hashed(SUBSCRIPTION)},
            {"query": SUBSCRIPTION, "variables": variables, "extensions": hashed(SUBSCRIPTION)},
            {"variables": variables, "extensions": hashed(SUBSCRIPTION)},
        ],
    )
    assert miss["type"] == "error" and codes(miss) == [PERSISTED_QUERY_NOT_FOUND]
    assert miss["payload"][0]["message"] == "PersistedQueryNotFound"
    # It ran: orderUpdated asks for a signed-in caller.
    assert codes(registered) == ["UNAUTHENTICATED"]
    assert codes(hit) == ["UNAUTHENTICATED"]
    assert apq_keys(store, namespace) == [f"{namespace}:apq:{sha256_hex(SUBSCRIPTION)}".encode()]


def test_the_allowlist_refuses_an_unregistered_subscription(
    make_settings, web_dist, store, namespace
):
    registered = manifest(ME)
    registered["operations"] += manifest(SUBSCRIPTION, kind="subscription")["operations"]
    (web_dist / WEB_MANIFEST).write_text(json.dumps(registered))
    other = "subscription Other($id: ID!) { orderUpdated(id: $id) { id } }"
    variables = {"id": ORDER_ID}
    refused, by_hash, by_text = subscribe(
        make_settings,
        [
            {"query": other, "variables": variables},
            {"variables": variables, "extensions": hashed(SUBSCRIPTION)},
            {"query": SUBSCRIPTION, "variables": variables},
        ],
        graphql_persisted_queries="allowlist",
    )
    assert refused["type"] == "error" and codes(refused) == [OPERATION_NOT_REGISTERED]
    assert codes(by_hash) == ["UNAUTHENTICATED"]
    assert codes(by_text) == ["UNAUTHENTICATED"]
    assert apq_keys(store, namespace) == []
