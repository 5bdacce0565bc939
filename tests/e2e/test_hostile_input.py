"""The hostile rows of issue 9's table, replayed against the running stack: each got a 5xx, an
INTERNAL, a dropped connection or was accepted on main; each is now a clear 4xx, the connection
stays usable, and nothing was done on the refused request's behalf."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.market import Api
from tests.support.stack import graphql

pytestmark = pytest.mark.e2e

TEN_MB = 10 * 1024 * 1024


def refused(result: dict) -> str:
    assert result["data"] is None, result
    assert {e["extensions"]["code"] for e in result["errors"]} == {"BAD_USER_INPUT"}
    return " / ".join(e["message"] for e in result["errors"])


def aliases(count: int, selection: str) -> str:
    return " ".join(f"a{i}: {selection}" for i in range(count))


@pytest.mark.parametrize("path", ["/graphql", "/api/users/signup", "/webhooks/stripe"])
def test_a_ten_megabyte_body_is_a_413_and_the_connection_stays_usable(client, path):
    body = b'{"query": "' + b"a" * TEN_MB + b'"}'
    reply = client.post(path, content=body, headers={"content-type": "application/json"})
    assert reply.status_code == 413
    [error] = reply.json()["errors"]
    # GraphQL's shape on /graphql, the REST one (`code` beside `message`) on the other routes.
    code = error["extensions"]["code"] if path == "/graphql" else error["code"]
    assert code == "PAYLOAD_TOO_LARGE"
    # The same client, on the connection it kept: the next request is served.
    assert graphql(client, "{ currentUser { id } }") == {"data": {"currentUser": None}}


def test_a_chunked_ten_megabyte_body_is_a_413(client):
    def chunks() -> Iterator[bytes]:
        for _ in range(160):
            yield b" " * 65_536

    reply = client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert reply.status_code == 413
    assert graphql(client, "{ currentUser { id } }") == {"data": {"currentUser": None}}


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_nested_deep_is_a_400(client, depth):
    body = b"[" * depth + b"]" * depth
    for path in ("/api/users/signup", "/api/users/signin"):
        reply = client.post(path, content=body, headers={"content-type": "application/json"})
        assert reply.status_code == 400, reply.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "\\ud800@example.com", "password": "correct-horse"}',
        b'{"email": "ann@example.com", "password": "\\udfffcorrect-horse"}',
        b'{"email": "ann@example.com", "password": "\xed\xa0\x80correct-horse"}',
    ],
)
def test_a_lone_surrogate_is_a_400(client, body):
    for path in ("/api/users/signup", "/api/users/signin"):
        reply = client.post(path, content=body, headers={"content-type": "application/json"})
        assert reply.status_code == 400, reply.text
        assert reply.json()["errors"][0]["message"].startswith("Request body must be JSON")


def test_five_thousand_aliases_are_refused(client):
    query = "{ " + aliases(5000, "currentUser { id }") + " }"
    assert "more than 2000 tokens" in refused(graphql(client, query))


def test_a_thousand_aliased_pages_of_tickets_are_refused(client):
    page = "tickets(first: 100) { edges { node { id } } }"
    assert "more than 2000 tokens" in refused(graphql(client, "{ " + aliases(1000, page) + " }"))
    assert "aliases" in refused(graphql(client, "{ " + aliases(40, page) + " }"))
    costly = graphql(client, "{ " + aliases(6, page) + " }")  # 6 x 201: COST_LIMIT (COST-3)
    assert costly["data"] is None
    assert [e["extensions"] for e in costly["errors"]] == [
        {"code": "COST_LIMIT", "cost": 1206, "limit": 1000}
    ]


def test_three_hundred_create_tickets_are_refused_and_none_is_created(client):
    api = Api(client)
    seller = api.user()
    refused_title = f"refused {uuid.uuid4().hex}"
    create = (
        f'createTicket(input: {{title: "{refused_title}", idempotencyKey: "{uuid.uuid4()}", '
        'price: {amount: "20", currencyCode: USD}}) { ticket { id } userErrors { code } }'
    )
    assert "more than 2000 tokens" in refused(
        api.ask(f"mutation {{ {aliases(300, create)} }}", seller)
    )
    assert "11 mutations" in refused(api.ask(f"mutation {{ {aliases(11, create)} }}", seller))
    # A sentinel, created after them: had any refused one been created, it would be right
    # behind the sentinel in the newest-first list.
    sentinel = api.sell(seller, title=f"sentinel {uuid.uuid4().hex}")
    page = api.data(
        "{ tickets(first: 100, includeUnavailable: true) { edges { node { id title } } } }"
    )["tickets"]["edges"]
    titles = [edge["node"]["title"] for edge in page]
    assert titles[0] == sentinel["title"]
    assert refused_title not in titles


def test_a_ten_megabyte_query_is_refused_before_it_is_parsed(client):
    query = "{ " + "currentUser { id } " * (TEN_MB // 20) + "}"
    reply = client.post("/graphql", json={"query": query})
    assert reply.status_code == 413
    # Within the body limit, the token limit stops the parser.
    nearly_a_megabyte = "{ " + "currentUser { id } " * 50_000 + "}"
    assert "more than 2000 tokens" in refused(graphql(client, nearly_a_megabyte))


def test_a_graphql_body_that_is_not_an_object_is_a_400(client):
    for body in (b"null", b"1", b'"{ currentUser { id } }"'):
        reply = client.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert reply.status_code == 400, reply.text
