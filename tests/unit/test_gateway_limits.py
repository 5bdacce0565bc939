"""Hostile bodies get a 4xx from the gateway's app, never a 5xx: oversized bodies 413 (without
being read whole), malformed, deep, surrogate-laden or over-long JSON 400, on the REST routes and
/graphql alike. The app is the real one (`create_app`); no service is reachable and none is
needed, since each of these is refused before any call."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from common.jwt import generate_key_pair
from gateway.app import create_app
from gateway.config import GatewaySettings

JSON = {"content-type": "application/json"}
LIMIT = 1_048_576


def app(**overrides):
    _, public = generate_key_pair()
    settings = GatewaySettings.from_env(
        {},
        jwt_public_key=public,
        # Nothing listens there: a request that got as far as a call would fail UNAVAILABLE.
        **{f"{s}_addr": "127.0.0.1:9" for s in ("auth", "tickets", "orders", "payments")},
        expiration_addr="127.0.0.1:9",
        redis_url="redis://127.0.0.1:9/0",
        ticket_cache_enabled=False,
        **overrides,
    )
    return create_app(settings)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
        yield c


def rest_error(reply: httpx.Response) -> str:
    assert reply.status_code == 400, reply.text
    [error] = reply.json()["errors"]
    assert error["code"] == "BAD_USER_INPUT"
    return error["message"]


# --- REST /api/users/*: 500 on main -------------------------------------------------------------


@pytest.mark.parametrize("route", ["/api/users/signup", "/api/users/signin"])
@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "\\ud800@example.com", "password": "correct-horse"}',  # escaped, lone
        b'{"email": "ann@example.com", "password": "\\udfff\\ud800"}',  # reversed pair
        b'{"email": "ann@example.com", "password": "\xed\xa0\x80abcdefgh"}',  # raw, in UTF-8
    ],
)
async def test_a_lone_surrogate_is_a_400(client, route, body):
    assert "Request body must be JSON in UTF-8" in rest_error(
        await client.post(route, content=body, headers=JSON)
    )


async def test_a_utf16_body_with_a_lone_surrogate_is_a_400(client):
    # json.loads decodes UTF-16 (and lets surrogates through); the gateway takes UTF-8 only.
    body = '{"email": "ann@example.com", "password": "x"}'.encode("utf-16-le")
    body = body.replace("x".encode("utf-16-le"), b"\x00\xd8")  # U+D800 alone
    assert rest_error(await client.post("/api/users/signin", content=body, headers=JSON))


@pytest.mark.parametrize("depth", [1_000, 100_000])
async def test_deeply_nested_json_is_a_400(client, depth):
    body = b"[" * depth + b"]" * depth
    assert rest_error(await client.post("/api/users/signup", content=body, headers=JSON))


async def test_json_deeper_than_the_limit_is_a_400(client):
    body = b'{"email": ' + b"[" * 40 + b"]" * 40 + b', "password": "x"}'
    message = rest_error(await client.post("/api/users/signup", content=body, headers=JSON))
    assert message == "The JSON is nested deeper than 32 levels"


async def test_an_over_long_string_is_a_400(client):
    body = json.dumps({"email": "a" * 10_001 + "@example.com", "password": "correct-horse"})
    message = rest_error(await client.post("/api/users/signup", content=body, headers=JSON))
    assert message == "A JSON string is longer than 10000 characters"


async def test_invalid_utf8_is_a_400(client):
    body = b'{"email": "\xff\xfe", "password": "correct-horse"}'
    assert rest_error(await client.post("/api/users/signin", content=body, headers=JSON))


# --- body size ----------------------------------------------------------------------------------


def payload_too_large(reply: httpx.Response) -> None:
    assert reply.status_code == 413
    assert reply.headers["content-type"] == "application/json"
    [error] = reply.json()["errors"]
    # GraphQL's error shape on /graphql; elsewhere the REST one, `code` beside `message`.
    if reply.url.path == "/graphql":
        assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    else:
        assert set(error) == {"message", "code"} and error["code"] == "PAYLOAD_TOO_LARGE"
    assert error["message"] == f"The request body is larger than {LIMIT} bytes"


@pytest.mark.parametrize("path", ["/graphql", "/api/users/signup", "/webhooks/stripe"])
async def test_a_ten_megabyte_body_is_a_413(client, path):
    body = b'{"query": "' + b" " * 10_000_000 + b'"}'
    payload_too_large(await client.post(path, content=body, headers=JSON))


async def test_a_streamed_body_is_refused_once_it_passes_the_limit_not_read_to_its_end(client):
    chunk = b" " * 65_536
    sent = 0

    async def ten_megabytes() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        nonlocal sent
        for _ in range(160):
            sent += 1
            yield chunk

    reply = await client.post("/graphql", content=ten_megabytes(), headers=JSON)
    payload_too_large(reply)
    assert sent <= LIMIT // len(chunk) + 2  # not the 160 chunks


async def test_a_body_just_under_the_limit_is_served(client):
    query = "{ currentUser { id } }"
    body = json.dumps({"query": query + " " * (LIMIT - 100)}).encode()
    assert len(body) <= LIMIT
    reply = await client.post("/graphql", content=body, headers=JSON)
    assert reply.status_code == 200
    assert reply.json() == {"data": {"currentUser": None}}


async def test_the_limit_is_a_setting():
    transport = httpx.ASGITransport(app=app(max_request_body_bytes=100))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as small:
        body = json.dumps({"query": "{ currentUser { id } }", "operationName": None}).encode()
        assert (await small.post("/graphql", content=body, headers=JSON)).status_code == 200
        reply = await small.post("/graphql", content=body + b" " * 100, headers=JSON)
        assert reply.status_code == 413
        assert reply.json()["errors"][0]["message"].endswith("larger than 100 bytes")


# --- /graphql bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"1", b'"query"', b"true", b"3.5"])
async def test_a_graphql_body_that_is_not_an_object_is_a_400(client, body):
    # Strawberry called .get() on it: 500 on main.
    reply = await client.post("/graphql", content=body, headers=JSON)
    assert (reply.status_code, reply.text) == (400, "A GraphQL request must be a JSON object")


async def test_a_graphql_body_of_null_is_a_request_without_a_query(client):
    reply = await client.post("/graphql", content=b"null", headers=JSON)
    assert (reply.status_code, reply.text) == (400, "No GraphQL query found in the request")


@pytest.mark.parametrize(
    "variables",
    [
        b'{"id": "\\ud800"}',
        b'{"id": ' + b"[" * 33 + b"]" * 33 + b"}",
        b'{"id": "' + b"x" * 10_001 + b'"}',
    ],
)
async def test_hostile_variables_are_a_400(client, variables):
    body = b'{"query": "query($id: ID!) { ticket(id: $id) { id } }", "variables": ' + variables
    reply = await client.post("/graphql", content=body + b"}", headers=JSON)
    assert reply.status_code == 400


async def test_a_long_query_text_is_not_held_to_the_string_limit(client):
    query = "{ currentUser { id } } # " + "x" * 20_000  # a comment: no tokens
    reply = await client.post("/graphql", json={"query": query})
    assert reply.json() == {"data": {"currentUser": None}}


async def test_an_operation_over_the_cost_limit_is_answered_200_with_its_cost(client):
    # Five pages of 100 tickets: 5 x (1 + 100 x (edge 1 + node 1)) = 1,005 (docs/api.md COST-3).
    page = "tickets(first: 100) { edges { node { id } } }"
    query = "query Pages { " + " ".join(f"p{i}: {page}" for i in range(5)) + " }"
    reply = await client.post("/graphql", json={"query": query})
    assert reply.status_code == 200
    assert reply.json() == {
        "data": None,
        "errors": [
            {
                "message": "'Pages' costs 1005, more than the limit of 1000",
                "extensions": {"code": "COST_LIMIT", "cost": 1005, "limit": 1000},
            }
        ],
    }
    # The limit is a setting.
    lenient = httpx.ASGITransport(app=app(graphql_max_cost=2_000), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=lenient, base_url="http://gateway") as c:
        served = (await c.post("/graphql", json={"query": query})).json()
    assert {e["extensions"]["code"] for e in served["errors"]} == {"UNAVAILABLE"}  # it ran


# --- introspection and GraphiQL -----------------------------------------------------------------


async def test_graphiql_and_introspection_are_off_unless_switched_on(client):
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 404
    reply = await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})
    assert reply.json()["data"] is None
    for error in reply.json()["errors"]:  # one for each field of the schema's types
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["message"].startswith("GraphQL introspection has been disabled")


async def test_graphiql_and_introspection_can_be_switched_on(tmp_path):
    # GraphiQL's page is the one `make web` builds (tests/unit/test_gateway_web.py has more).
    (tmp_path / "graphiql").mkdir()
    (tmp_path / "graphiql" / "index.html").write_text("<title>GraphiQL</title>")
    dev = app(graphql_ide=True, graphql_introspection=True, web_dist_dir=str(tmp_path))
    transport = httpx.ASGITransport(app=dev)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
        page = await c.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        reply = await c.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
        assert reply.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
