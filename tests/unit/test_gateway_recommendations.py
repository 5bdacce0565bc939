"""recommendedTickets / similarTickets in the gateway: insights ranks ids, the tickets service
says what each ticket is now, and what is no longer for sale or is the caller's own is dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from common.jwt import Claims
from common.protos import timestamp
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


async def test_recommended_tickets_leave_out_sold_own_and_missing_ones():
    result, clients = await run("{ recommendedTickets(first: 5) { id } }", signed_in=True)

    assert result.errors is None, result.errors
    assert [t["id"] for t in result.data["recommendedTickets"]] == ["t1", "t3", "t5", "t7", "t8"]
    asked = clients.requests[0]
    assert asked == insights_pb2.RecommendTicketsRequest(
        user_id="caller", anonymous_id="cookie-1", first=15
    )


async def test_an_anonymous_visitor_is_recommended_by_their_cookie():
    result, clients = await run("{ recommendedTickets { id title } }", signed_in=False)

    assert result.errors is None, result.errors
    shown = [t["id"] for t in result.data["recommendedTickets"]]
    assert len(shown) == 10 and "t2" not in shown and "t4" in shown  # not theirs: anonymous
    assert clients.requests[0] == insights_pb2.RecommendTicketsRequest(
        anonymous_id="cookie-1", first=20
    )


async def test_similar_tickets_never_include_the_ticket_itself_or_the_callers_own():
    result, clients = await run('{ similarTickets(id: "t3", first: 4) { id } }', signed_in=True)

    assert result.errors is None, result.errors
    assert [t["id"] for t in result.data["similarTickets"]] == ["t1", "t5", "t7", "t8"]
    assert clients.requests[0] == insights_pb2.SimilarTicketsRequest(
        ticket_id="t3", user_id="caller", first=14
    )


async def test_first_is_bounded_like_a_connections():
    for field in ("recommendedTickets(first: 0)", 'similarTickets(id: "t1", first: 101)'):
        result, clients = await run(f"{{ {field} {{ id }} }}", signed_in=False)

        assert result.data is None
        assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
        assert clients.requests == []
