"""schemathesis against /graphql, through the real gateway and services: queries and mutations
generated from the gateway's own schema, well-typed and ill-typed, run as a signed-in user. No
answer is a 5xx, every GraphQL error has a code and none is INTERNAL, and every process is still
healthy afterwards."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.graphql import nodes

from gateway.schema import build_schema
from tests.fuzz.strategies import FUZZ, graphql_errors_have_codes
from tests.support.stack import graphql

# The contract's own scalars, as clients write them (and as they should not).
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.sampled_from(["20", "20.00", "0.5", "-1", "1e999999999", "NaN", "1" * 30, ""]),
        st.decimals(allow_nan=False, allow_infinity=False).map(str),
        st.text(max_size=20),
    ).map(nodes.String),
)
schemathesis.graphql.scalar(
    "DateTime", st.datetimes().map(lambda d: d.isoformat()).map(nodes.String)
)

# From the code, not from the stack: schemathesis needs the schema when the tests are collected.
# signOut is left out: it would revoke the token every later case runs with.
SCHEMA = schemathesis.graphql.from_file(str(build_schema())).exclude(name="Mutation.signOut")
cases = st.one_of(
    SCHEMA.as_strategy(generation_mode=GenerationMode.POSITIVE),
    SCHEMA.as_strategy(generation_mode=GenerationMode.NEGATIVE),
)


@pytest.fixture(scope="module")
def token(client) -> str:
    query = (
        'mutation($e: String!) { signUp(input: {email: $e, password: "s3cret-pass"}) '
        "{ token userErrors { code } } }"
    )
    result = graphql(client, query, e=f"fuzz-{uuid.uuid4().hex[:10]}@example.com")
    assert result["data"]["signUp"]["userErrors"] == [], result
    return result["data"]["signUp"]["token"]


@settings(FUZZ, max_examples=200)
@given(case=cases)
def test_generated_operations_never_answer_5xx_or_internal(stack, token, still_healthy, case):
    reply = case.call(
        base_url=f"{stack.base_url}/graphql",
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert reply.status_code < 500, (case.body, reply.status_code, reply.text[:500])
    [content_type] = reply.headers.get("content-type", [""])
    graphql_errors_have_codes(content_type, reply.content)
