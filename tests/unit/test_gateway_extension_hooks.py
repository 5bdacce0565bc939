"""The schema's extensions' hooks, found once per class (gateway/extension_hooks.py), run as
Strawberry runs them: every stage, in order, each instance its own, a plain-function hook too."""

from __future__ import annotations

import strawberry
from strawberry.extensions import SchemaExtension

from gateway.schema import TicketingSchema


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hi"

    @strawberry.field
    def broken(self) -> str:
        raise ValueError("nope")


def recording_schema(calls: list[str]) -> TicketingSchema:
    class Outer(SchemaExtension):
        def on_operation(self):
            calls.append("operation outer")
            yield
            calls.append(f"operation done {bool(self.execution_context.result.errors)}")

        def on_parse(self):
            calls.append("parse")
            yield

        def on_validate(self):
            calls.append("validate")
            yield

    class Inner(SchemaExtension):
        async def on_execute(self):
            calls.append("execute")
            yield
            calls.append("executed")

        def on_validate(self):  # a plain function: Strawberry's own wrapping
            calls.append("validate, plain")

    return TicketingSchema(query=Query, extensions=[Outer, Inner])


async def test_every_stage_runs_its_hooks_in_order_on_every_request() -> None:
    calls: list[str] = []
    schema = recording_schema(calls)
    for _ in range(2):
        result = await schema.execute("{ hello }")
        assert result.data == {"hello": "hi"}
    once = [
        "operation outer",
        "parse",
        "validate",
        "validate, plain",
        "execute",
        "executed",
        "operation done False",
    ]
    assert calls == once * 2


async def test_a_failing_resolver_reaches_the_hooks_result() -> None:
    calls: list[str] = []
    result = await recording_schema(calls).execute("{ broken }")
    assert [e.message for e in result.errors] == ["nope"]
    assert calls[-1] == "operation done True"


def test_the_sync_path_runs_the_same_hooks() -> None:
    calls: list[str] = []

    class Counted(SchemaExtension):
        def on_operation(self):
            calls.append("operation")
            yield
            calls.append("done")

        def on_execute(self):
            calls.append("execute")
            yield

    schema = TicketingSchema(query=Query, extensions=[Counted])
    assert schema.execute_sync("{ hello }").data == {"hello": "hi"}
    assert calls == ["operation", "execute", "done"]
