"""Hypothesis against the REST routes and raw /graphql bodies, through the real gateway and
services: whatever the body, encoding, content type or made-up token, the answer is below 500,
the connection is not dropped (httpx would raise), and every process is still healthy."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import (
    FUZZ,
    content_types,
    graphql_bodies,
    graphql_errors_have_codes,
    headers_of,
    json_bodies,
    made_up_tokens,
    rest_errors_have_codes,
    sent,
)

JSON = "application/json"
PLAIN = {"content_type": JSON, "token": None, "as_cookie": False}
PRICE_BOMB = (
    b'{"query": "mutation { createTicket(input: {title: \\"x\\", idempotencyKey: \\"k1\\", '
    b'price: {amount: \\"1e999999999\\", currencyCode: USD}}) { ticket { id } } }"}'
)
POSTS = ["/api/users/signup", "/api/users/signin", "/api/users/signout"]


# The table's rows of issue 9 (5xx or a dropped connection on main), then generated ones.
@example(path=POSTS[0], body=b'{"email": "\\ud800@example.com", "password": "x"}', **PLAIN)
@example(path=POSTS[1], body=b"[" * 100_000 + b"]" * 100_000, **PLAIN)
@example(path=POSTS[0], body=b'{"email": "' + b"a" * 10_000_000 + b'"}', **PLAIN)
@settings(FUZZ, max_examples=300)
@given(
    path=st.sampled_from(POSTS),
    body=json_bodies,
    content_type=content_types,
    token=made_up_tokens,
    as_cookie=st.booleans(),
)
def test_rest_posts_never_answer_5xx(
    client, still_healthy, path, body, content_type, token, as_cookie
):
    client.cookies.clear()
    reply = sent(
        client, "POST", path, content=body, headers=headers_of(content_type, token, as_cookie)
    )
    assert reply.status_code < 500, (path, body[:200], reply.status_code, reply.text[:500])
    rest_errors_have_codes(reply)


@FUZZ
@given(token=made_up_tokens, as_cookie=st.booleans())
def test_current_user_never_answers_5xx(client, still_healthy, token, as_cookie):
    client.cookies.clear()
    reply = sent(client, "GET", "/api/users/currentuser", headers=headers_of("", token, as_cookie))
    assert reply.status_code < 500, (token, reply.status_code, reply.text[:500])
    rest_errors_have_codes(reply)


@example(body=b"null", content_type=JSON, token=None)
@example(body=b"1", content_type=JSON, token=None)
@example(body=b'{"query": "{ a }", "variables": {"a": "\\ud800"}}', content_type=JSON, token=None)
@example(body=PRICE_BOMB, content_type=JSON, token=None)
@settings(FUZZ, max_examples=300)
@given(body=graphql_bodies, content_type=content_types, token=made_up_tokens)
def test_graphql_bodies_never_answer_5xx(client, still_healthy, body, content_type, token):
    client.cookies.clear()
    reply = sent(
        client, "POST", "/graphql", content=body, headers=headers_of(content_type, token, False)
    )
    assert reply.status_code < 500, (body[:300], reply.status_code, reply.text[:500])
    graphql_errors_have_codes(reply.headers.get("content-type", ""), reply.content)


@settings(FUZZ, max_examples=150)
@given(query=st.text(max_size=3_000), variables=st.text(max_size=300), name=st.text(max_size=50))
def test_graphql_gets_never_answer_5xx(client, still_healthy, query, variables, name):
    client.cookies.clear()
    params = {"query": query, "variables": variables, "operationName": name}
    reply = sent(client, "GET", "/graphql", params=params)
    assert reply.status_code < 500, (params, reply.status_code, reply.text[:500])
    graphql_errors_have_codes(reply.headers.get("content-type", ""), reply.content)
