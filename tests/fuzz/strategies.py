"""What a hostile client sends, as Hypothesis strategies: JSON with lone surrogates, in UTF-8,
CESU-8 or UTF-16, nested thousands deep, megabytes long, or not JSON at all; GraphQL documents
with thousands of aliases, fragment bombs, deep nesting and repeated fields."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

# Bounded and reproducible: a fixed number of examples, the same ones on every run.
FUZZ = settings(
    max_examples=100,
    derandomize=True,
    # No shrinking: a failure is reported as found, so a failing run is as short as a passing.
    phases=[Phase.explicit, Phase.generate],
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # still_healthy checks once, after all examples
    ],
)

# Any code point, lone UTF-16 surrogates included (Hypothesis leaves them out by default).
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
# What a header value may hold (printable ASCII, no space at either end).
header_text = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=200
)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)


def encoded(value: Any, encoding: str) -> bytes:
    """JSON text of `value`: surrogates escaped (`\\ud800`), or raw in UTF-8 or UTF-16 (which
    only `surrogatepass` can write: what a broken client would send)."""
    if encoding == "escaped":
        return json.dumps(value).encode()
    return json.dumps(value, ensure_ascii=False).encode(encoding, "surrogatepass")


ENCODINGS = st.sampled_from(["escaped", "escaped", "utf-8", "utf-16", "utf-32"])


def nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def big_string(size: int, key: str) -> bytes:
    return b'{"' + key.encode() + b'": "' + b"a" * size + b'"}'


credentials = st.fixed_dictionaries(
    {"email": st.emails() | any_text | json_values, "password": any_text | json_values},
    optional={"extra": json_values},
)

json_bodies = st.one_of(
    st.builds(encoded, credentials, ENCODINGS),
    st.builds(encoded, json_values, ENCODINGS),
    st.builds(nested, st.integers(1, 100_000), st.sampled_from(["list", "object"])),
    st.builds(
        big_string,
        st.sampled_from([10_001, 200_000, 1_048_000, 1_048_577, 5_000_000]),
        st.sampled_from(["email", "password", "query", "x"]),
    ),
    st.binary(max_size=300),
)

content_types = st.sampled_from(
    [
        "application/json",
        "application/json",
        "application/json; charset=utf-16",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ]
)

# A token or cookie a client made up, or a JWT-shaped one.
made_up_tokens = st.one_of(
    st.none(),
    header_text,
    st.builds(
        lambda parts: ".".join(parts),
        st.lists(
            st.text(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_", min_size=1, max_size=60
            ),
            min_size=1,
            max_size=4,
        ),
    ),
)


def sent(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The reply; a dropped connection fails the test, saying what was sent."""
    try:
        return client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        content = kwargs.get("content")
        shown = content[:300] if isinstance(content, bytes) else content
        size = len(content) if isinstance(content, bytes) else None
        raise AssertionError(
            f"{method} {path}: {exc!r}; headers {kwargs.get('headers')}, "
            f"params {kwargs.get('params')}, {size} bytes: {shown!r}"
        ) from None


def headers_of(content_type: str, token: str | None, as_cookie: bool) -> dict[str, str]:
    headers = {"content-type": content_type} if content_type else {}
    if token is not None:
        if as_cookie:
            headers["cookie"] = f"session={token}"
        else:
            headers["authorization"] = f"Bearer {token}"
    return headers


# --- GraphQL documents ----------------------------------------------------------------------

SELECTIONS = [
    "currentUser { id email }",
    "tickets(first: 100) { edges { node { id title price { amount currencyCode } state } } "
    "pageInfo { endCursor } }",
    "tickets { edges { cursor } }",
    "tickets(last: 100, includeUnavailable: true) { nodes { id seller { id } } }",
    'ticket(id: "t1") { id }',
    'node(id: "VGlja2V0OnQx") { id ... on Ticket { title } }',
    'nodes(ids: ["t1", "VXNlcjox", ""]) { id }',
    "orders(first: 100) { totalCount edges { node { id ticket { id } payment { id } } } }",
    "__typename",
    "__schema { types { name fields { name } } }",
    "nosuchfield",
]
USER_ERRORS = "userErrors { code field message }"
MUTATIONS = [
    'createTicket(input: {title: "Row F", price: {amount: "20", currencyCode: USD}, '
    f'idempotencyKey: "fuzz-1"}}) {{ ticket {{ id }} {USER_ERRORS} }}',
    'createTicket(input: {title: "Row F", price: {amount: "1e999999999", currencyCode: GBP}, '
    f'idempotencyKey: "fuzz-2"}}) {{ ticket {{ id }} {USER_ERRORS} }}',
    'updateTicket(input: {id: "t1", expectedVersion: 0, title: "Row F", '
    f'price: {{amount: "-1e-99999999", currencyCode: EUR}}}}) {{ ticket {{ id }} {USER_ERRORS} }}',
    'withdrawTicket(input: {id: "VGlja2V0OnQx", expectedVersion: 2147483647}) '
    f"{{ ticket {{ id }} {USER_ERRORS} }}",
    'createOrder(input: {ticketId: "nope", idempotencyKey: "fuzz-1"}) '
    f"{{ order {{ id }} {USER_ERRORS} }}",
    f'cancelOrder(input: {{id: "nope"}}) {{ order {{ id }} {USER_ERRORS} }}',
    'createPayment(input: {orderId: "nope", paymentMethod: "pm_card_visa", '
    f'idempotencyKey: "{"k" * 65}"}}) {{ payment {{ id }} {USER_ERRORS} }}',
    f'changePassword(input: {{currentPassword: "a", newPassword: "b"}}) {{ token {USER_ERRORS} }}',
    f"signOut {{ {USER_ERRORS} }}",
]


def aliased(count: int, selection: str, with_aliases: bool) -> str:
    if with_aliases:
        return " ".join(f"a{i}: {selection}" for i in range(count))
    return " ".join([selection] * count)


def fragment_bomb(levels: int, fan_out: int) -> str:
    spreads = lambda i: " ".join([f"...F{i + 1}"] * fan_out)  # noqa: E731
    fragments = "".join(f"fragment F{i} on Query {{ {spreads(i)} }} " for i in range(levels))
    return f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ currentUser {{ id }} }}"


def deep(levels: int, field: str) -> str:
    return "{ " + f"{field} {{ " * levels + "id" + " }" * levels + " }"


documents = st.one_of(
    st.builds(
        lambda n, s, a: "{ " + aliased(n, s, a) + " }",
        st.integers(1, 5_000),
        st.sampled_from(SELECTIONS),
        st.booleans(),
    ),
    st.builds(
        lambda n, s, a: "mutation { " + aliased(n, s, a) + " }",
        st.integers(1, 400),
        st.sampled_from(MUTATIONS),
        st.booleans(),
    ),
    st.builds(fragment_bomb, st.integers(1, 80), st.integers(1, 3)),
    st.builds(deep, st.integers(1, 400), st.sampled_from(["currentUser", "tickets", "edges"])),
    st.builds(lambda s: '{ ticket(id: "' + s + '") { id } }', any_text),
    st.builds(lambda n: '{ ticket(id: "' + "x" * n + '") { id } }', st.integers(0, 2_000_000)),
    st.builds(
        lambda s: "{ ticket(id: " + s + ") { id } }",
        st.sampled_from(['"\\ud800"', '"\\u{D800}"', '"""\\ud800"""', "[" * 500 + "]" * 500]),
    ),
    any_text,
)

graphql_bodies = st.one_of(
    st.builds(
        lambda q, v, enc: encoded({"query": q, "variables": v}, enc),
        documents,
        st.none() | st.dictionaries(any_text, json_values, max_size=3),
        ENCODINGS,
    ),
    st.builds(
        lambda v, enc: encoded(
            {"query": "query($id: ID!, $p: Decimal!) { ticket(id: $id) { id } }", "variables": v},
            enc,
        ),
        st.fixed_dictionaries({"id": json_values, "p": json_values}),
        ENCODINGS,
    ),
    json_bodies,
)


def rest_errors_have_codes(reply: httpx.Response) -> None:
    """A REST error answer: JSON, every error with a message and a code (GraphQL's codes, or
    the gateway's PAYLOAD_TOO_LARGE and CSRF_REFUSED), none INTERNAL."""
    if reply.status_code < 400:
        return
    assert reply.headers.get("content-type", "").startswith("application/json"), reply.text[:300]
    errors = reply.json()["errors"]
    assert errors, reply.text[:300]
    for error in errors:
        assert error["message"] and error["code"], error
        assert error["code"] != "INTERNAL", error
        assert "extensions" not in error, error


def graphql_errors_have_codes(content_type: str, body: bytes) -> None:
    """A GraphQL answer in JSON: every error has a code, and none is INTERNAL (a bug)."""
    if not content_type.startswith("application/json"):
        return
    answer = json.loads(body)
    for error in (answer.get("errors") or []) if isinstance(answer, dict) else []:
        code = (error.get("extensions") or {}).get("code")
        assert code, error
        assert code != "INTERNAL", error
