"""`payouts` (the caller's, as a seller), `allPayouts` (operators) and `node(id:)` for a Payout,
over a stand-in payments service that answers like the real one: a seller sees their own, an
operator anyone's, others are refused or left out."""

from __future__ import annotations

from datetime import timedelta

from common.errors import Forbidden
from common.jwt import Claims
from common.pagination import Cursor
from common.protos import from_timestamp, timestamp
from common.roles import ADMIN
from gateway.context import Context
from gateway.loaders import payments_loader, tickets_loader
from gateway.schema import build_schema
from gateway.ticket_cache import TicketReads
from tests.unit.gateway_v1_world import CALLER, START, Services, errors, gid, tid
from ticketing.payments.v1 import payments_pb2

OTHER_SELLER = "7c1d3c52-8a4e-4f0b-9c1e-2b7d5e8a9f32"


def payout_id(i: int) -> str:
    return f"30000000-0000-4000-8000-{i:012d}"


class PayoutServices(Services):
    """Payouts p0..p2 (p0 newest) of the caller as seller, p3 another seller's."""

    def __init__(self) -> None:
        super().__init__()
        self.payments.ListPayouts = "payments.ListPayouts"
        self.payments.BatchGetPayouts = "payments.BatchGetPayouts"
        self.payouts = [
            payments_pb2.Payout(
                id=payout_id(i),
                order_id=f"o{i}",
                seller_id=CALLER if i < 3 else OTHER_SELLER,
                amount="40.00",
                currency_code="EUR",
                status=status,
                create_time=timestamp(START - timedelta(minutes=i)),
                ticket_id=tid(0),
                reason="Held: the buyer disputed the charge" if status == "HELD" else "",
            )
            for i, status in enumerate(["SCHEDULED", "PAID", "WAITING_FOR_ONBOARDING", "HELD"])
        ]
        self.payouts[0].due_time.CopyFrom(timestamp(START + timedelta(days=2)))
        self.payouts[1].paid_time.CopyFrom(timestamp(START))
        self.admin = False

    def _readable(self, request_all: bool) -> list[payments_pb2.Payout]:
        if request_all and not self.admin:
            raise Forbidden("Every seller's payouts are for operators only")
        return [p for p in self.payouts if request_all or p.seller_id == CALLER]

    def ListPayouts(self, r):
        found = [p for p in self._readable(r.all_sellers) if not r.status or p.status == r.status]
        size = r.page_size or 20
        start = 0
        if r.page_token:
            start = [_cursor(p) for p in found].index(r.page_token) + 1
        page = found[start : start + size]
        more = start + size < len(found)
        return payments_pb2.ListPayoutsResponse(
            payouts=page,
            next_page_token=_cursor(page[-1]) if more else "",
            has_next_page=more,
            has_previous_page=start > 0,
        )

    def BatchGetPayouts(self, r):
        readable = self._readable(self.admin)
        return payments_pb2.BatchGetPayoutsResponse(payouts=[p for p in readable if p.id in r.ids])


def _cursor(p) -> str:
    return Cursor(from_timestamp(p.create_time), p.id).encode()


class Caller(Context):
    roles: tuple[str, ...] = ()

    async def user(self):
        return Claims(
            sub=CALLER, email="me@example.com", iat=0, exp=2**31, jti="j", roles=self.roles
        )


class Operator(Caller):
    roles = (ADMIN,)


async def run(services: PayoutServices, query: str, variables=None, *, kind=Caller):
    reads = TicketReads(services, cache=None)
    context = kind(
        request=None,
        response=None,
        clients=services,
        accounts=None,
        token="token",
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(services, "token"),
    )
    return await build_schema().execute(query, variable_values=variables, context_value=context)


PAYOUTS = """
query ($after: String) {
  payouts(first: 2, after: $after) {
    nodes { id status amount { amount currencyCode } dueAt paidAt reason listing { id } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def test_a_seller_pages_through_their_own_payouts():
    services = PayoutServices()
    first = await run(services, PAYOUTS)
    assert first.errors is None
    page = first.data["payouts"]
    assert [n["status"] for n in page["nodes"]] == ["SCHEDULED", "PAID"]
    scheduled, paid = page["nodes"]
    assert scheduled["id"] == gid("Payout", payout_id(0))
    assert scheduled["amount"] == {"amount": "40.00", "currencyCode": "EUR"}
    assert scheduled["dueAt"].startswith("2026-11-03") and scheduled["paidAt"] is None
    assert paid["paidAt"] is not None and paid["dueAt"] is None
    assert scheduled["listing"] == {"id": gid("Listing", tid(0))}
    assert page["pageInfo"]["hasNextPage"] is True
    second = await run(services, PAYOUTS, {"after": page["pageInfo"]["endCursor"]})
    rest = second.data["payouts"]
    assert [n["status"] for n in rest["nodes"]] == ["WAITING_FOR_ONBOARDING"]
    assert (rest["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasPreviousPage"]) == (False, True)
    # The caller's own: the service is never asked for everyone's.
    assert not any(r.all_sellers for r in services.asked("payments.ListPayouts"))


async def test_a_cursor_that_does_not_decode_is_bad_input_before_any_call():
    services = PayoutServices()
    result = await run(services, PAYOUTS, {"after": "not-a-cursor"})
    assert errors(result) == [(["payouts"], "BAD_USER_INPUT")]
    assert services.asked("payments.ListPayouts") == []


ALL = """
query ($status: PayoutStatus) {
  allPayouts(status: $status, first: 10) { nodes { id status reason } }
}
"""


async def test_every_sellers_payouts_are_for_operators_only():
    services = PayoutServices()
    refused = await run(services, ALL)
    assert errors(refused) == [(["allPayouts"], "FORBIDDEN")]
    assert refused.data == {"allPayouts": None}
    assert services.asked("payments.ListPayouts") == []

    services.admin = True
    held = await run(services, ALL, {"status": "HELD"}, kind=Operator)
    assert held.errors is None
    assert held.data["allPayouts"]["nodes"] == [
        {
            "id": gid("Payout", payout_id(3)),
            "status": "HELD",
            "reason": "Held: the buyer disputed the charge",
        }
    ]
    [asked] = services.asked("payments.ListPayouts")
    assert (asked.all_sellers, asked.status) == (True, "HELD")


NODE = "query ($id: ID!) { node(id: $id) { id ... on Payout { status } } }"


async def test_a_payout_by_id_is_the_sellers_own_and_anothers_is_not_found():
    services = PayoutServices()
    own = await run(services, NODE, {"id": gid("Payout", payout_id(1))})
    assert own.data["node"] == {"id": gid("Payout", payout_id(1)), "status": "PAID"}
    other = await run(services, NODE, {"id": gid("Payout", payout_id(3))})
    assert errors(other) == [(["node"], "NOT_FOUND")]
