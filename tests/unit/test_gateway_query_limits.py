"""GraphQL documents that ask too much are refused before anything runs.

- depth, aliases, tokens, mutations, size: BAD_USER_INPUT with a message naming the limit, the
  verdict cached per text (as before v1);
- cost (docs/api.md COST-1..4): computed from the schema's `@cost` and `@listSize` directives,
  with this request's variables; over the limit, `data: null` and one COST_LIMIT error with
  `cost` and `limit` (COST-3).

The cost figures are checked on the schema the gateway builds (its Strawberry directives) and on
the committed schema.graphql (its SDL directives): both must give the guide's figures.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import strawberry
from graphql import TypeInfo, ValidationContext, get_introspection_query, parse
from graphql import build_schema as build_sdl_schema

from gateway.cost import Cost, ListSize
from gateway.document_cost import operation_cost
from gateway.errors import ErrorCodes
from gateway.query_limits import MAX_SELECTIONS, QueryLimits, _Measurer, limit_extensions
from gateway.schema import build_schema
from tests.unit.test_gateway_documents import context, unique, work  # noqa: F401 (a fixture)

DEFAULT = build_schema()
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
SCHEMAS = {"built": DEFAULT._schema, "schema.graphql": build_sdl_schema(SCHEMA_FILE.read_text())}


@pytest.fixture(params=sorted(SCHEMAS))
def schema(request):
    return SCHEMAS[request.param]


def cost(schema, query: str, variables: dict | None = None) -> int:
    return operation_cost(schema, parse(query), variables)[0]


async def run(query: str, schema=DEFAULT, variables: dict | None = None):
    return await schema.execute(unique(query), variable_values=variables, context_value=context())


def only_error(result) -> str:
    """The message of a request refused before execution (no data, every error with a code)."""
    assert result.data is None
    codes = {e.extensions["code"] for e in result.errors}
    assert codes == {"BAD_USER_INPUT"}, result.errors
    return " / ".join(e.message for e in result.errors)


def cost_refusal(result) -> dict:
    """The one COST_LIMIT error of a refused request, as a client reads it."""
    assert result.data is None
    [error] = result.errors
    assert error.extensions["code"] == "COST_LIMIT", error
    return {"message": error.message, **error.extensions}


def measure(query: str):
    schema = DEFAULT._schema
    document = parse(query)
    ctx = ValidationContext(schema, document, TypeInfo(schema), lambda error: None)
    [operation] = [d for d in document.definitions if d.kind == "operation_definition"]
    return _Measurer(ctx).operation(operation)


def aliases(count: int, selection: str) -> str:
    return " ".join(f"a{i}: {selection}" for i in range(count))


def fragment_bomb(levels: int) -> str:
    """Each fragment spreads the next one twice: 2**levels fields once expanded."""
    fragments = "".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }} " for i in range(levels)
    )
    return f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ me: currentUser {{ id }} }}"


YEAR = 'sellerReport(from: "2024-01-01", to: "2024-12-31")'  # 366 days, a leap year
MONTH = 'sellerReport(from: "2026-01-01", to: "2026-01-30")'
CHANGE = 'changePassword(input: {currentPassword: "a", newPassword: "b"}) { user { id } }'

# --- the guide's figures (COST-2, COST-4) -------------------------------------------------------


def test_a_page_of_tickets_costs_the_guides_example(schema):
    page = (
        "{ tickets(first: 20) { edges { node { id title price { amount } state } } "
        "pageInfo { hasNextPage } } }"
    )
    # tickets 1 + 20 x (edge 1 + node 1 + price 1) + pageInfo 1; state comes with the ticket
    assert cost(schema, page) == 62
    assert cost(schema, "{ tickets { nodes { id } } }") == 1 + 20 * 1  # the default first
    assert cost(schema, "{ tickets(last: 5) { nodes { id } } }") == 1 + 5
    # edges and nodes both selected count both; a connection's totalCount is a count.
    both = "{ orders(first: 10) { edges { node { id } } nodes { id } totalCount } }"
    assert cost(schema, both) == 1 + 10 * 2 + 10 * 1 + 1


def test_a_report_costs_its_weight_and_its_days(schema):
    assert cost(schema, f"{{ {YEAR} {{ days {{ day }} }} }}") == 466
    assert cost(schema, f"{{ {MONTH} {{ days {{ day }} }} }}") == 130
    assert cost(schema, f"{{ {YEAR} {{ totals {{ sold }} }} }}") == 100  # without days
    # The figures of each day come in the report's one reply: free, money lists too.
    full_days = f"{{ {YEAR} {{ days {{ day figures {{ sold revenue {{ amount }} }} }} }} }}"
    assert cost(schema, full_days) == 466
    # The days of a range given by variables, with this request's values.
    by_variables = "query($f: Date!, $t: Date!) { sellerReport(from: $f, to: $t) { days { day } } }"
    assert cost(schema, by_variables, {"f": "2026-03-01", "t": "2026-03-07"}) == 107
    # The most viewed tickets: n x (1 + the ticket's selections).
    viewed = f"{{ {MONTH} {{ mostViewedTickets(first: 5) {{ views ticket {{ id }} }} }} }}"
    assert cost(schema, viewed) == 100 + 5 * (1 + 1)


def test_recommendations_cost_their_model_query_and_their_items(schema):
    both = "{ recommendedTickets(first: 10) { edges { node { id title } } } }"
    assert cost(schema, both) == 20 + 10 * (1 + 1)
    nodes = '{ similarTickets(id: "x", first: 10) { nodes { id price { amount } } } }'
    assert cost(schema, nodes) == 20 + 10 * (1 + 1)


def test_a_variable_counts_with_this_requests_value(schema):
    query = "query($n: Int) { tickets(first: $n) { nodes { id } } }"
    assert cost(schema, query, {"n": 20}) == 21
    assert cost(schema, query, {"n": 100}) == 101
    assert cost(schema, query, {}) == 21  # absent: the argument's default
    with_default = "query($n: Int = 5) { tickets(first: $n) { nodes { id } } }"
    assert cost(schema, with_default, {}) == 6
    ids = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert cost(schema, ids, {"ids": ["a", "b", "c"]}) == 1 + 3


def test_fragments_count_once_per_spread(schema):
    query = (
        "{ a: tickets(first: 10) { ...Page } b: tickets(first: 30) { ...Page } } "
        "fragment Page on TicketConnection { nodes { ...Seen } pageInfo { hasNextPage } } "
        "fragment Seen on Ticket { price { amount } state }"
    )
    assert cost(schema, query) == (1 + 10 * 2 + 1) + (1 + 30 * 2 + 1)
    spread_twice = '{ ticket(id: "x") { ...T ...T } } fragment T on Ticket { price { amount } }'
    assert cost(schema, spread_twice) == 1 + 2


def test_aliases_count_as_expanded(schema):
    query = "{ " + aliases(3, 'ticket(id: "x") { price { amount } }') + " }"
    assert cost(schema, query) == 3 * 2


def test_the_web_apps_heaviest_page_is_far_under_the_limit(schema):
    orders = (
        "{ orders(first: 20) { totalCount pageInfo { hasNextPage endCursor } edges { cursor "
        "node { id status cancelReason expiresAt price { amount currencyCode } "
        "ticket { id title price { amount currencyCode } state } "
        "payment { id status amount { amount currencyCode } } } } } }"
    )
    assert cost(schema, orders) == 1 + 1 + 1 + 20 * (1 + 1 + 1 + (1 + 1) + (1 + 1))
    assert cost(schema, orders) < QueryLimits.max_cost / 5


def test_a_fragment_bomb_is_costed_without_expanding_it(schema):
    assert cost(schema, fragment_bomb(60)) == 2**60  # currentUser: 1 each, no walk of 2**60


# --- refused with COST_LIMIT, nothing run ------------------------------------------------------


async def test_thirty_aliased_seller_reports_are_refused():
    # Before v1 they passed: 1.3 MB in one request.
    result = await run("query Reports { " + aliases(30, f"{YEAR} {{ totals {{ sold }} }}") + " }")
    assert cost_refusal(result) == {
        "message": "'Reports' costs 3000, more than the limit of 1000",
        "code": "COST_LIMIT",
        "cost": 3000,
        "limit": 1000,
    }


async def test_thirty_aliased_pages_of_recommendations_are_refused():
    # Before v1: 3,000 tickets in one request.
    query = "{ " + aliases(30, "recommendedTickets(first: 100) { nodes { id } }") + " }"
    assert cost_refusal(await run(query))["cost"] == 30 * (20 + 100)


async def test_the_same_text_is_served_or_refused_by_its_variables():
    query = "query Pages($n: Int) { " + aliases(10, "tickets(first: $n) { nodes { id } }") + " }"
    refused = await DEFAULT.execute(query, variable_values={"n": 100}, context_value=context())
    assert cost_refusal(refused)["cost"] == 10 * 101
    cheap = await DEFAULT.execute(query, variable_values={"n": 5}, context_value=context())
    assert all(e.extensions["code"] != "COST_LIMIT" for e in cheap.errors or [])
    again = await DEFAULT.execute(query, variable_values={"n": 100}, context_value=context())
    assert cost_refusal(again)["cost"] == 10 * 101


async def test_the_limit_is_a_setting():
    strict = build_schema(QueryLimits(max_cost=100))
    refused = cost_refusal(await run(f"{{ {MONTH} {{ days {{ day }} }} }}", strict))
    assert (refused["cost"], refused["limit"]) == (130, 100)


# A schema of its own, with a resolver that counts its calls: a refusal runs nothing.


@strawberry.type
class Item:
    name: str


CALLS: list[int] = []


@strawberry.type
class ItemQuery:
    @strawberry.field(directives=[Cost(weight=5), ListSize(slicing_arguments=["first"])])
    def items(self, first: int = 10) -> list[Item]:
        CALLS.append(first)
        return [Item(name=str(i)) for i in range(first)]


ITEMS = strawberry.Schema(
    query=ItemQuery, extensions=[*limit_extensions(QueryLimits(max_cost=50)), ErrorCodes]
)


async def test_an_operation_over_the_limit_runs_nothing():
    CALLS.clear()
    query = "query($n: Int!) { items(first: $n) { name } }"
    served = await ITEMS.execute(query, variable_values={"n": 45})  # 5 + 45 = 50
    assert served.errors is None and len(served.data["items"]) == 45
    refused = await ITEMS.execute(query, variable_values={"n": 46})
    assert cost_refusal(refused) == {
        "message": "'anonymous' costs 51, more than the limit of 50",
        "code": "COST_LIMIT",
        "cost": 51,
        "limit": 50,
    }
    assert CALLS == [45]  # the refused one never reached the resolver


async def test_a_subscription_over_the_limit_is_refused_too():
    @strawberry.type
    class Subscription:
        @strawberry.subscription(directives=[Cost(weight=60)])
        async def ticks(self) -> int:
            CALLS.append(-1)
            yield 1

    schema = strawberry.Schema(
        query=ItemQuery,
        subscription=Subscription,
        extensions=[*limit_extensions(QueryLimits(max_cost=50)), ErrorCodes],
    )
    CALLS.clear()
    results = [r async for r in await schema.subscribe("subscription { ticks }")]
    assert [cost_refusal(r)["cost"] for r in results] == [60]
    assert CALLS == []


# --- the limits kept from before v1: BAD_USER_INPUT, cached per text ---------------------------


async def test_five_thousand_aliases_are_refused_by_the_token_limit():
    result = await run("{ " + aliases(5000, "currentUser { id }") + " }")
    assert only_error(result).startswith("Syntax Error: Document contains more than 2000 tokens")


async def test_a_thousand_aliased_pages_of_tickets_are_refused():
    query = "{ " + aliases(1000, "tickets(first: 100) { edges { node { id } } }") + " }"
    assert "more than 2000 tokens" in only_error(await run(query))
    # Within the token limit, the aliases refuse them before their cost is counted.
    lenient = build_schema(QueryLimits(max_tokens=100_000))
    message = only_error(await run(query, lenient))
    assert message.startswith("'anonymous' has 1000 aliases; at most 30 are allowed / ")
    assert "COST" not in message  # refused as invalid before any cost is counted


async def test_three_hundred_mutations_in_one_request_are_refused():
    lenient = build_schema(QueryLimits(max_tokens=100_000, max_aliases=1_000))
    message = only_error(await run(f"mutation {{ {aliases(300, CHANGE)} }}", lenient))
    assert message == "'anonymous' has 300 mutations; at most 10 may run in one request"


async def test_ten_mutations_run_and_eleven_do_not():
    # Nobody is signed in: each runs and answers UNAUTHENTICATED, its payload alone null.
    ten = await run(f"mutation {{ {aliases(10, CHANGE)} }}")
    assert ten.data == {f"a{i}": None for i in range(10)}
    assert [(e.path, e.extensions["code"]) for e in ten.errors] == [
        ([f"a{i}"], "UNAUTHENTICATED") for i in range(10)
    ]
    eleven = await run(f"mutation {{ {aliases(11, CHANGE)} }}")
    assert only_error(eleven) == "'anonymous' has 11 mutations; at most 10 may run in one request"


async def test_mutations_spread_from_fragments_count_too():
    query = (
        f"mutation {{ ...Four ...Four ...Four }} fragment Four on Mutation {{ a: {CHANGE} "
        "b: signOut { user { id } } c: signOut { user { id } } d: signOut { user { id } } }"
    )
    assert "has 12 mutations" in only_error(await run(query))


async def test_thirty_aliases_are_served_and_thirty_one_are_not():
    served = await run("{ " + aliases(30, "currentUser { id }") + " }")
    assert served.errors is None and len(served.data) == 30
    refused = await run("{ " + aliases(31, "currentUser { id }") + " }")
    assert only_error(refused) == "'anonymous' has 31 aliases; at most 30 are allowed"


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
        "{ orders(first: 100) { edges { cursor node { id status ticket { id title price "
        "{ amount } } payment { status amount { amount } } } } pageInfo { hasNextPage "
        "endCursor } } }"
    )
    assert measure(introspection).selections < MAX_SELECTIONS / 4
    assert measure(orders).selections == 18


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
