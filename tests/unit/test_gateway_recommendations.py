"""recommendedTickets / similarTickets in the gateway: insights ranks ids, the tickets service
says what each ticket is now, and what is no longer for sale or is the caller's own is dropped.
Both are connections over the ranking (cut at 100), paged by rank offset both ways."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from common.jwt import Claims
from common.protos import timestamp
from gateway import global_ids
from gateway.context import Context
from gateway.loaders import payments_loader, tickets_loader
from gateway.schema import build_schema
from gateway.ticket_cache import TicketReads
from ticketing.insights.v1 import insights_pb2
from ticketing.tickets.v1 import tickets_pb2

NOW = timestamp(datetime(2026, 11, 1, tzinfo=UTC))
# What the tickets service says now: t2 was ordered since the model was trained, t4 is the
# caller's own, t6 is gone.
TICKETS = {
    f"t{i}": tickets_pb2.Ticket(
        id=f"t{i}",
        title=f"Band {i} — Hall, City",
        price="20.00",
        user_id="caller" if i == 4 else "seller",
        order_id="o-1" if i == 2 else "",
        create_time=NOW,
    )
    for i in range(30)
    if i != 6
}
TICKETS["t9"].withdrawn = True


class Clients:
    """Stands in for ServiceClients: insights ranks t1, t2, ... and the requests are kept."""

    def __init__(self) -> None:
        self.requests: list[object] = []
        self.tickets = SimpleNamespace(BatchGetTickets="BatchGetTickets")
        self.insights = SimpleNamespace(
            RecommendTickets="RecommendTickets", SimilarTickets="SimilarTickets"
        )

    async def call(self, method, request, token=None, timeout=None):
        self.requests.append(request)
        if method == "BatchGetTickets":
            found = [TICKETS[i] for i in request.ids if i in TICKETS]
            return tickets_pb2.BatchGetTicketsResponse(tickets=found)
        ranked = [f"t{i}" for i in range(1, request.first + 1)]
        if method == "RecommendTickets":
            return insights_pb2.RecommendTicketsResponse(ticket_ids=ranked, model_version="v1")
        if method == "SimilarTickets":
            return insights_pb2.SimilarTicketsResponse(ticket_ids=ranked, model_version="v1")
        raise AssertionError(f"unexpected call {method}")


class SignedIn(Context):
    async def user(self):
        return Claims(sub="caller", email="c@example.com", iat=0, exp=2**31, jti="j")


class Anonymous(Context):
    async def user(self):
        return None


async def run(query: str, *, signed_in: bool) -> tuple[object, Clients]:
    clients = Clients()
    reads = TicketReads(clients, cache=None)
    kind = SignedIn if signed_in else Anonymous
    context = kind(
        request=None,
        response=None,
        clients=clients,
        accounts=None,
        token="token" if signed_in else None,
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(clients, None),
        anonymous_id="cookie-1",
    )
    return await build_schema().execute(query, context_value=context), clients


def ids(connection: dict) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def tickets(*raw: int) -> list[str]:
    return [global_ids.encode("Ticket", f"t{i}") for i in raw]


async def test_recommended_tickets_leave_out_sold_withdrawn_own_and_missing_ones():
    result, clients = await run(
        "{ recommendedTickets(first: 5) { edges { node { id } } } }", signed_in=True
    )

    assert result.errors is None, result.errors
    assert ids(result.data["recommendedTickets"]) == tickets(1, 3, 5, 7, 8)
    asked = clients.requests[0]
    # The whole ranking (cut at 100) is asked for: pages are offsets into it.
    assert asked == insights_pb2.RecommendTicketsRequest(
        user_id="caller", anonymous_id="cookie-1", first=100
    )


async def test_an_anonymous_visitor_is_recommended_by_their_cookie():
    result, clients = await run("{ recommendedTickets { nodes { id title } } }", signed_in=False)

    assert result.errors is None, result.errors
    shown = [t["id"] for t in result.data["recommendedTickets"]["nodes"]]
    assert len(shown) == 10 and tickets(2)[0] not in shown and tickets(4)[0] in shown
    assert clients.requests[0] == insights_pb2.RecommendTicketsRequest(
        anonymous_id="cookie-1", first=100
    )


async def test_similar_tickets_never_include_the_ticket_itself_or_the_callers_own():
    [t3] = tickets(3)
    result, clients = await run(
        f'{{ similarTickets(id: "{t3}", first: 4) {{ edges {{ node {{ id }} }} }} }}',
        signed_in=True,
    )

    assert result.errors is None, result.errors
    assert ids(result.data["similarTickets"]) == tickets(1, 5, 7, 8)
    assert clients.requests[0] == insights_pb2.SimilarTicketsRequest(
        ticket_id="t3", user_id="caller", first=100
    )


PAGE = "edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


async def test_a_ranking_pages_forwards_and_backwards_over_the_same_ranks():
    # For the caller, the ranking's tickets for sale are t1 t3 t5 t7 t8 t10 ... (t2 held, t4
    # theirs, t6 gone, t9 withdrawn).
    first, _ = await run(f"{{ recommendedTickets(first: 3) {{ {PAGE} }} }}", signed_in=True)
    page = first.data["recommendedTickets"]
    assert ids(page) == tickets(1, 3, 5)
    assert page["pageInfo"]["hasNextPage"] and not page["pageInfo"]["hasPreviousPage"]

    after = page["pageInfo"]["endCursor"]
    second, _ = await run(
        f'{{ recommendedTickets(first: 3, after: "{after}") {{ {PAGE} }} }}', signed_in=True
    )
    page2 = second.data["recommendedTickets"]
    assert ids(page2) == tickets(7, 8, 10)
    assert page2["pageInfo"]["hasNextPage"] and page2["pageInfo"]["hasPreviousPage"]

    before = page2["pageInfo"]["startCursor"]
    back, _ = await run(
        f'{{ recommendedTickets(last: 2, before: "{before}") {{ {PAGE} }} }}', signed_in=True
    )
    page3 = back.data["recommendedTickets"]
    assert ids(page3) == tickets(3, 5)  # still best first
    assert page3["pageInfo"]["hasNextPage"] and page3["pageInfo"]["hasPreviousPage"]


async def test_the_last_page_of_a_ranking_has_no_next_page():
    # 30 ranked ids, 24 of them for this caller (t0, t2, t4, t6, t9 and t30+ are out).
    result, _ = await run(f"{{ recommendedTickets(last: 2) {{ {PAGE} }} }}", signed_in=True)
    page = result.data["recommendedTickets"]
    assert ids(page) == tickets(28, 29)
    assert not page["pageInfo"]["hasNextPage"] and page["pageInfo"]["hasPreviousPage"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ("first: 0", "first"),
        ("first: 101", "first"),
        ("last: 101", "last"),
        ("first: 2, last: 2", "first"),
        ('last: 2, after: "x"', "after"),
        ('before: "x"', "before"),
        ('after: "not a cursor"', "after"),
        ('last: 3, before: "bm90IGEgcmFuaw"', "before"),
    ],
)
async def test_sizes_mixes_and_bad_cursors_are_refused_before_any_call(arguments, field):
    [t1] = tickets(1)
    for connection in (
        f"recommendedTickets({arguments})",
        f'similarTickets(id: "{t1}", {arguments})',
    ):
        result, clients = await run(f"{{ {connection} {{ nodes {{ id }} }} }}", signed_in=False)

        assert result.data == {connection.split("(")[0]: None}
        [error] = result.errors
        assert (error.extensions["code"], error.extensions["field"]) == ("BAD_USER_INPUT", field)
        assert clients.requests == []
