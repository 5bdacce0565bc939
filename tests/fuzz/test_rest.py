"""Hypothesis against the REST routes and raw /graphql bodies, through the real gateway and
services: whatever the body, encoding, content type or made-up token, the answer is below 500,
the connection is not dropped (httpx would raise), and every process is still healthy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.strategies import (
    FUZZ,
    content_types,
    graphql_bodies,
    graphql_errors_have_codes,
    headers_of,
    json_bodies,
    made_up_tokens,
)

pytestmark = pytest.mark.e2e

POSTS = ["/api/users/signup", "/api/users/signin", "/api/users/signout"]


@FUZZ
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
    reply = client.post(path, content=body, headers=headers_of(content_type, token, as_cookie))
    assert reply.status_code < 500, (path, body[:200], reply.status_code, reply.text[:500])


@FUZZ
@given(token=made_up_tokens, as_cookie=st.booleans())
def test_current_user_never_answers_5xx(client, still_healthy, token, as_cookie):
    client.cookies.clear()
    reply = client.get("/api/users/currentuser", headers=headers_of("", token, as_cookie))
    assert reply.status_code < 500, (token, reply.status_code, reply.text[:500])


@FUZZ
@given(body=graphql_bodies, content_type=content_types, token=made_up_tokens)
def test_graphql_bodies_never_answer_5xx(client, still_healthy, body, content_type, token):
    client.cookies.clear()
    reply = client.post("/graphql", content=body, headers=headers_of(content_type, token, False))
    assert reply.status_code < 500, (body[:300], reply.status_code, reply.text[:500])
    graphql_errors_have_codes(reply)


@FUZZ
@given(query=st.text(max_size=3_000), variables=st.text(max_size=300), name=st.text(max_size=50))
def test_graphql_gets_never_answer_5xx(client, still_healthy, query, variables, name):
    client.cookies.clear()
    params = {"query": query, "variables": variables, "operationName": name}
    reply = client.get("/graphql", params=params)
    assert reply.status_code < 500, (params, reply.status_code, reply.text[:500])
    graphql_errors_have_codes(reply)
