"""`User.isAdmin`: whether the caller holds the admin role, on their own User only (the web app
shows the operators' links by it); null on anyone else's, without an error."""

from __future__ import annotations

from common.jwt import Claims
from common.roles import ADMIN
from gateway.loaders import payments_loader, tickets_loader
from gateway.schema import build_schema
from gateway.ticket_cache import TicketReads
from tests.unit.gateway_v1_world import CALLER, SELLER, Services, SignedIn, gid, run, tid

QUERY = (
    f'{{ ticket(id: "{gid("Ticket", tid(0))}") {{ seller {{ id isAdmin }} }} '
    "currentUser { id isAdmin } }"
)


class Operator(SignedIn):
    async def user(self):
        return Claims(sub=CALLER, email="op@example.com", iat=0, exp=2**31, jti="j", roles=(ADMIN,))


async def as_operator(services: Services, query: str):
    reads = TicketReads(services, cache=None)
    context = Operator(
        request=None,
        response=None,
        clients=services,
        accounts=None,
        token="token",
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(services, "token"),
    )
    return await build_schema().execute(query, context_value=context)


async def test_an_operator_is_told_they_are_one_and_nothing_of_anyone_else():
    result = await as_operator(Services(), QUERY)
    assert result.errors is None
    assert result.data["currentUser"] == {"id": gid("User", CALLER), "isAdmin": True}
    assert result.data["ticket"]["seller"] == {"id": gid("User", SELLER), "isAdmin": None}


async def test_a_member_is_told_they_are_not_one():
    result = await run(Services(), QUERY)
    assert result.errors is None
    assert result.data["currentUser"] == {"id": gid("User", CALLER), "isAdmin": False}
    assert result.data["ticket"]["seller"]["isAdmin"] is None
