"""GraphQL documents that ask too much are refused before anything runs, with BAD_USER_INPUT and a
message saying which limit: aliases, tokens, cost, mutations, depth, size; introspection can be
switched off. Every one of these was accepted on main (or answered without an error code)."""

from __future__ import annotations

import uuid

from graphql import TypeInfo, ValidationContext, get_introspection_query, parse

from gateway.query_limits import MAX_SELECTIONS, QueryLimits, _Measurer
from gateway.schema import build_schema
from tests.unit.test_gateway_documents import context, unique, work  # noqa: F401 (a fixture)

DEFAULT = build_schema()


async def run(query: str, schema=DEFAULT, variables: dict | None = None):
    return await schema.execute(unique(query), variable_values=variables, context_value=context())


def only_error(result) -> str:
    """The message of a request refused before execution (no data, every error with a code)."""
    assert result.data is None
    codes = {e.extensions["code"] for e in result.errors}
    assert codes == {"BAD_USER_INPUT"}, result.errors
    return " / ".join(e.message for e in result.errors)


def measure(query: str):
    schema = DEFAULT._schema
    document = parse(query)
    ctx = ValidationContext(schema, document, TypeInfo(schema), lambda error: None)
    [operation] = [d for d in document.definitions if d.kind == "operation_definition"]
    return _Measurer(ctx, max_page_size=100).operation(operation)


def aliases(count: int, selection: str) -> str:
    return " ".join(f"a{i}: {selection}" for i in range(count))


def fragment_bomb(levels: int) -> str:
    """Each fragment spreads the next one twice: 2**levels fields once expanded."""
    fragments = "".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }} " for i in range(levels)
    )
    return f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ me: currentUser {{ id }} }}"


# --- the rows of the table -------------------------------------------------------------


async def test_five_thousand_aliases_are_refused_by_the_token_limit():
    result = await run("{ " + aliases(5000, "currentUser { id }") + " }")
    assert only_error(result).startswith("Syntax Error: Document contains more than 2000 tokens")


async def test_a_thousand_aliased_pages_of_tickets_are_refused():
    query = "{ " + aliases(1000, "tickets(first: 100) { edges { node { id } } }") + " }"
    assert "more than 2000 tokens" in only_error(await run(query))
    # Within the token limit, the aliases and the cost still refuse them.
    lenient = build_schema(QueryLimits(max_tokens=100_000))
    message = only_error(await run(query, lenient))
    assert "'anonymous' has 1000 aliases; at most 30 are allowed" in message
    assert "'anonymous' costs 201000, more than the limit of 1000" in message


async def test_three_hundred_mutations_in_one_request_are_refused():
    create = 'createTicket(title: "Row F", price: "20") { id }'
    lenient = build_schema(QueryLimits(max_tokens=100_000, max_aliases=1_000))
    message = only_error(await run(f"mutation {{ {aliases(300, create)} }}", lenient))
    assert message == "'anonymous' has 300 mutations; at most 10 may run in one request"


async def test_ten_mutations_run_and_eleven_do_not():
    # Nobody is signed in: the first one runs and answers UNAUTHENTICATED, which ends the rest
    # (its result is not nullable).
    change = 'changePassword(currentPassword: "a", newPassword: "b") { token }'
    ten = await run(f"mutation {{ {aliases(10, change)} }}")
    assert [(e.path, e.extensions["code"]) for e in ten.errors] == [(["a0"], "UNAUTHENTICATED")]
    eleven = await run(f"mutation {{ {aliases(11, change)} }}")
    assert only_error(eleven) == "'anonymous' has 11 mutations; at most 10 may run in one request"


async def test_mutations_spread_from_fragments_count_too():
    query = (
        "mutation { ...Four ...Four ...Four } "
        'fragment Four on Mutation { a: changePassword(currentPassword: "a", newPassword: "b") '
        "b: signout c: signout d: signout }"
    )
    assert "has 12 mutations" in only_error(await run(query))


# --- aliases, cost ------------------------------------------------------------------------------


async def test_thirty_aliases_are_served_and_thirty_one_are_not():
    served = await run("{ " + aliases(30, "currentUser { id }") + " }")
    assert served.errors is None and len(served.data) == 30
    refused = await run("{ " + aliases(31, "currentUser { id }") + " }")
    assert only_error(refused) == "'anonymous' has 31 aliases; at most 30 are allowed"


def test_cost_counts_each_list_item_of_a_page_first_times():
    page = "{ tickets(first: 100) { edges { node { id title } } pageInfo { endCursor } } }"
    # tickets 1, 100 edges and 100 nodes, pageInfo once: the scalars are free.
    assert measure(page).cost == 1 + 100 * (1 + 1) + 1
    assert measure("{ tickets { edges { node { id } } } }").cost == 1 + 20 * 2  # default first
    nested = "{ orders(first: 50) { edges { node { ticket { id } payment { amount } } } } }"
    assert measure(nested).cost == 1 + 50 * (1 + 1 + 1 + 1)


def test_a_first_given_as_a_variable_counts_as_the_largest_page():
    query = "query($n: Int = 1) { tickets(first: $n) { edges { node { id } } } }"
    assert measure(query).cost == 1 + 100 * 2


async def test_five_full_pages_of_tickets_cost_too_much():
    page = "tickets(first: 100) { edges { node { id } } pageInfo { endCursor } }"
    message = only_error(await run("{ " + aliases(5, page) + " }"))
    assert message.startswith("'anonymous' costs 1010, more than the limit of 1000")


async def test_a_fragment_bomb_is_measured_without_expanding_it():
    # 2**60 fields once expanded: Strawberry's limiters walked every expansion (0.8 s at 18
    # levels, doubling with each one); this is refused at once.
    message = only_error(await run(fragment_bomb(60)))
    assert f"has {2**60} aliases" in message


async def test_a_long_chain_of_fragments_is_refused_with_a_code():
    # On main the depth limiter recursed through it in Python and its RecursionError came back
    # as an error without extensions.code.
    chain = "".join(f"fragment F{i} on Query {{ ...F{i + 1} }} " for i in range(400))
    query = f"{{ ...F0 }} {chain} fragment F400 on Query {{ currentUser {{ id }} }}"
    lenient = build_schema(QueryLimits(max_tokens=100_000))
    assert only_error(await run(query, lenient)) == "Validation aborted."
    assert "more than 2000 tokens" in only_error(await run(query))


async def test_one_field_repeated_hundreds_of_times_is_refused_before_it_is_compared():
    # graphql-core compares every two of them: 490 of these took 1.9 s to validate on main.
    query = "{ " + "currentUser { id } " * 490 + "}"
    message = only_error(await run(query))
    assert message.startswith("'anonymous' is too large: 480200 field selections")
    assert measure("{ " + "currentUser { id } " * 20 + "}").selections == 20 * 20 * 2


def test_introspection_and_an_orders_page_are_far_below_the_size_limit():
    introspection = get_introspection_query(descriptions=True, input_value_deprecation=True)
    orders = (
        "{ orders(first: 100) { edges { cursor node { id status ticket { id title price } "
        "payment { stripeId amount } } } pageInfo { hasNextPage endCursor } } }"
    )
    assert measure(introspection).selections < MAX_SELECTIONS / 4
    assert measure(orders).selections == 16


async def test_depth_counts_as_before_and_through_fragments():
    deep = "{ orders(first: 1) { edges { node { ticket { title } } } } }"
    strict = build_schema(QueryLimits(max_depth=3))
    assert only_error(await run(deep, strict)) == (
        "'anonymous' exceeds maximum operation depth of 3"
    )
    through_fragment = (
        "query Mine { orders(first: 1) { edges { ...Node } } } "
        "fragment Node on OrderEdge { node { ticket { title } } }"
    )
    assert only_error(await run(through_fragment, strict)) == (
        "'Mine' exceeds maximum operation depth of 3"
    )
    assert measure(deep).depth == 4


async def test_introspection_can_be_switched_off():
    query = "{ __schema { queryType { name } } }"
    served = await run(query)
    assert served.data == {"__schema": {"queryType": {"name": "Query"}}}
    closed = build_schema(QueryLimits(introspection=False))
    message = only_error(await run(query, closed))
    assert "introspection" in message.lower()
    typename = await run("{ __typename }", closed)  # not introspection of the schema
    assert typename.data == {"__typename": "Query"}


async def test_a_refusal_is_cached_like_any_verdict(work):  # noqa: F811 (the fixture)
    # Documents equal but for comments share a verdict: this one's fields are its own.
    query = (
        "{ " + aliases(30, "currentUser { id }") + f' a30: ticket(id: "{uuid.uuid4()}") {{ id }} }}'
    )
    for _ in range(3):
        result = await DEFAULT.execute(query, context_value=context())
        assert only_error(result) == "'anonymous' has 31 aliases; at most 30 are allowed"
    assert work == {"parse": 1, "validate": 1}
