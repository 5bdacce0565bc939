"""gateway/plain_fields.py: objects whose selected fields are all plain attributes are completed
in one step, with the same answer graphql-core gives field by field, and graphql-core's errors
(with their paths) wherever the shortcut cannot answer."""

from __future__ import annotations

import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.plain_fields import PlainFieldsExecutor
from gateway.schema import build_schema
from tests.unit.test_gateway_events import Catalogue, event, run

PAGE = """
query ($first: Int, $withVenue: Boolean!) {
  events(query: "mu", first: $first) {
    __typename
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges {
      cursor
      node {
        __typename id name startsAt endsAt timeZone category status version ticketCount
        price: lowestPrice { amount currencyCode }
        venue @include(if: $withVenue) { slug name city country timeZone }
        ... on Event { alias: name }
      }
    }
    facets { categories { value count } cities { value count } }
  }
}
"""


class PricedCatalogue(Catalogue):
    def __init__(self) -> None:
        super().__init__()
        self.events = [
            event(i, lowest_price="12.50" if i % 2 else "", currency_code="GBP", tickets_for_sale=i)
            for i in range(1, 46)
        ]


async def test_a_search_page_reads_as_graphql_core_answers_it(monkeypatch):
    services = PricedCatalogue()
    answers = {}
    for executor in (PlainFieldsExecutor, StrawberryGraphQLCoreExecutionContext):
        schema = build_schema()
        schema.execution_context_class = executor
        monkeypatch.setattr("tests.unit.test_gateway_events.build_schema", lambda s=schema: s)
        answers[executor] = [
            await run(services, PAGE, {"first": first, "withVenue": with_venue})
            for first, with_venue in ((20, True), (3, False), (20, True))
        ]
    for fast, core in zip(*answers.values(), strict=True):
        assert fast.errors is None and fast.data == core.data
    first, without_venue, _ = answers[PlainFieldsExecutor]
    node = first.data["events"]["edges"][0]["node"]
    assert node["venue"]["city"] == "London" and node["price"] == {
        "amount": "12.50",
        "currencyCode": "GBP",
    }
    assert "venue" not in without_venue.data["events"]["edges"][0]["node"]


@strawberry.type
class Thing:
    name: str
    note: str | None


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [Thing(name="one", note=None), Thing(name=None, note="x")]  # type: ignore[arg-type]


async def test_a_null_in_a_non_null_field_is_graphql_cores_error_with_its_path():
    schema = strawberry.Schema(query=Query, execution_context_class=PlainFieldsExecutor)
    result = await schema.execute("{ things { name note } }")
    assert result.data is None
    assert [error.path for error in result.errors or []] == [["things", 1, "name"]]


@strawberry.type
class Leaves:
    count: int | None
    flag: bool | None
    label: str | None


@strawberry.type
class LeavesQuery:
    @strawberry.field
    def leaves(self) -> list[Leaves]:
        return [
            Leaves(count=7, flag=True, label="a"),
            Leaves(count=None, flag=None, label=None),
            Leaves(count=1.0, flag=1, label=12),  # type: ignore[arg-type]
            Leaves(count=2**31, flag=False, label="b"),
        ]


async def test_leaves_are_coerced_as_graphql_core_coerces_them():
    """Values of the built-in scalars' own Python types pass as they are; others are coerced
    (1.0 as 1, 1 as true, 12 as "12") or refused (an Int out of range) by graphql-core, with
    its error and path."""
    answers = []
    for executor in (PlainFieldsExecutor, StrawberryGraphQLCoreExecutionContext):
        schema = strawberry.Schema(query=LeavesQuery, execution_context_class=executor)
        answers.append(await schema.execute("{ leaves { count flag label } }"))
    fast, core = answers
    assert fast.data == core.data
    assert fast.data["leaves"][:3] == [
        {"count": 7, "flag": True, "label": "a"},
        {"count": None, "flag": None, "label": None},
        {"count": 1, "flag": True, "label": "12"},
    ]
    assert [e.path for e in fast.errors or []] == [["leaves", 3, "count"]]
    assert [e.message for e in fast.errors or []] == [e.message for e in core.errors or []]
