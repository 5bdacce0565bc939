"""The gateway parses and validates a query text once, then serves it from its document cache:
the answers are the same as without the cache, errors and the depth limit included."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import strawberry.schema.schema
from graphql.language.parser import Parser

from common.protos import timestamp
from gateway import global_ids
from gateway.context import Context
from gateway.query_limits import QueryLimits
from gateway.schema import CACHED_QUERY_MAX_CHARS, DOCUMENT_CACHE_SIZE, build_schema
from gateway.ticket_cache import TicketReads
from ticketing.tickets.v1 import tickets_pb2

NOW = timestamp(datetime(2026, 11, 1, tzinfo=UTC))
T1, T2 = global_ids.encode("Ticket", "t1"), global_ids.encode("Ticket", "t2")


class TicketClients:
    """Stands in for ServiceClients: GetTicket answers with a ticket of the id asked for."""

    tickets = SimpleNamespace(GetTicket="GetTicket")
    orders = SimpleNamespace(ListOrders="ListOrders")  # named, never reached: nobody signed in

    async def call(self, method, request, token=None, timeout=None):
        assert method == "GetTicket"
        ticket = tickets_pb2.Ticket(
            id=request.id, title="Row F", price="20.00", currency_code="EUR", create_time=NOW
        )
        return tickets_pb2.GetTicketResponse(ticket=ticket)


@pytest.fixture
def work(monkeypatch) -> Counter[str]:
    """Counts the parses and validations graphql-core really does, cached or not."""
    counts: Counter[str] = Counter()
    parse_document = Parser.parse_document
    validate = strawberry.schema.schema.validate

    def counting_parse(self):
        counts["parse"] += 1
        return parse_document(self)

    def counting_validate(*args, **kwargs):
        counts["validate"] += 1
        return validate(*args, **kwargs)

    monkeypatch.setattr(Parser, "parse_document", counting_parse)
    monkeypatch.setattr(strawberry.schema.schema, "validate", counting_validate)
    return counts


def context() -> Context:
    clients = TicketClients()
    return Context(
        request=None,
        response=None,
        clients=clients,
        accounts=SimpleNamespace(verifier=None),  # nobody signed in: no token to verify
        token=None,
        ticket_reads=TicketReads(clients, None),  # no cache: every read is a GetTicket
        tickets=None,
        payments=None,
    )


def unique(query: str) -> str:
    """The caches live as long as the process: a text no other test sent starts uncached."""
    return f"{query} # {uuid.uuid4()}"


async def answers(schema, query: str, times: int = 3) -> list:
    return [await schema.execute(query, context_value=context()) for _ in range(times)]


def codes(result) -> list[tuple[str, str]]:
    return [(e.message, e.extensions["code"]) for e in result.errors or []]


async def test_a_repeated_query_is_parsed_and_validated_once(work):
    query = unique(f'{{ ticket(id: "{T1}") {{ id title price {{ amount currencyCode }} }} }}')
    results = await answers(build_schema(), query)
    price = {"amount": "20.00", "currencyCode": "EUR"}
    for result in results:
        assert result.errors is None
        assert result.data == {"ticket": {"id": T1, "title": "Row F", "price": price}}
    assert work == {"parse": 1, "validate": 1}


async def test_another_text_is_parsed_on_its_own(work):
    schema = build_schema()
    first = await schema.execute(
        unique(f'{{ ticket(id: "{T1}") {{ id }} }}'), context_value=context()
    )
    second = await schema.execute(
        unique(f'{{ ticket(id: "{T2}") {{ id }} }}'), context_value=context()
    )
    assert (first.data, second.data) == ({"ticket": {"id": T1}}, {"ticket": {"id": T2}})
    assert work == {"parse": 2, "validate": 2}


async def test_an_invalid_query_gets_its_validation_error_every_time(work):
    query = unique('{ ticket(id: "t1") { id colour } }')
    results = await answers(build_schema(), query)
    expected = [("Cannot query field 'colour' on type 'Ticket'.", "BAD_USER_INPUT")]
    assert [codes(r) for r in results] == [expected] * 3
    assert all(r.data is None for r in results)
    assert work == {"parse": 1, "validate": 1}


async def test_a_syntax_error_is_reported_every_time(work):
    results = await answers(build_schema(), unique('{ ticket(id: "t1") { id '))
    for result in results:
        [(message, code)] = codes(result)
        assert message.startswith("Syntax Error") and code == "BAD_USER_INPUT"


async def test_the_depth_limit_still_rejects_a_cached_query(work):
    deep = unique("{ orders(first: 1) { edges { node { ticket { title } } } } }")
    results = await answers(build_schema(QueryLimits(max_depth=3)), deep)
    expected = [("'anonymous' exceeds maximum operation depth of 3", "BAD_USER_INPUT")]
    assert [codes(r) for r in results] == [expected] * 3
    assert work == {"parse": 1, "validate": 1}


async def test_schemas_with_different_depth_limits_do_not_share_a_verdict(work):
    deep = unique("{ orders(first: 1) { edges { node { ticket { title } } } } }")
    lenient, strict = (
        build_schema(QueryLimits(max_depth=10)),
        build_schema(QueryLimits(max_depth=3)),
    )
    passed = await lenient.execute(deep, context_value=context())
    refused = await strict.execute(deep, context_value=context())
    # Valid for the lenient one: it reached the resolver, which wants a signed-in caller.
    assert codes(passed) == [("Sign in first", "UNAUTHENTICATED")]
    assert codes(refused) == [
        ("'anonymous' exceeds maximum operation depth of 3", "BAD_USER_INPUT")
    ]
    assert work == {"parse": 1, "validate": 2}  # one text, one verdict per schema


async def test_a_long_query_is_answered_without_being_cached(work):
    padding = " " * CACHED_QUERY_MAX_CHARS
    results = await answers(build_schema(), unique(f'{{ ticket(id: "{T1}") {{ id }} }}' + padding))
    assert [r.data for r in results] == [{"ticket": {"id": T1}}] * 3
    assert work == {"parse": 3, "validate": 3}


async def test_the_verdicts_kept_are_bounded_and_an_evicted_text_is_validated_again(work):
    schema = build_schema()
    first = unique(f'{{ ticket(id: "{T1}") {{ id }} }}')
    await schema.execute(first, context_value=context())
    for _ in range(DOCUMENT_CACHE_SIZE):
        await schema.execute(unique(f'{{ ticket(id: "{T2}") {{ id }} }}'), context_value=context())
    again = await schema.execute(first, context_value=context())
    assert again.data == {"ticket": {"id": T1}}
    assert work == {"parse": DOCUMENT_CACHE_SIZE + 2, "validate": DOCUMENT_CACHE_SIZE + 2}
