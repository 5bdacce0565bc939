"""Refunds through the GraphQL API (docs/api.md): a buyer's requestRefund and Order.refunds, an
admin's refundOrder (Money in, minor units to payments), decideRefundRequest, refundRequests
and refundRuns; the admin role checked before any call; payments' refusals as userErrors."""

from __future__ import annotations

from common.errors import Conflict, InvalidInput
from common.jwt import Claims
from common.protos import timestamp
from common.roles import ADMIN
from gateway.context import Context
from gateway.loaders import payments_loader, tickets_loader
from gateway.schema import build_schema
from gateway.ticket_cache import TicketReads
from tests.unit.gateway_v1_world import CALLER, START, Services, errors, gid, oid, run
from ticketing.payments.v1 import payments_pb2

REFUND_ID = "30000000-0000-4000-8000-000000000000"


def refund(state: str = "REQUESTED", **fields) -> payments_pb2.Refund:
    return payments_pb2.Refund(
        id=REFUND_ID,
        order_id=oid(0),
        buyer_id=CALLER,
        amount=5500,
        currency_code="EUR",
        reason="Cannot come",
        state=state,
        origin="BUYER",
        create_time=timestamp(START),
        **fields,
    )


class RefundServices(Services):
    def __init__(self) -> None:
        super().__init__()
        self.refunds = [refund()]
        self.payments.ListRefunds = "payments.ListRefunds"
        self.payments.RequestRefund = "payments.RequestRefund"
        self.payments.RefundOrder = "payments.RefundOrder"
        self.payments.DecideRefundRequest = "payments.DecideRefundRequest"
        self.payments.ListRefundRuns = "payments.ListRefundRuns"

    def ListRefunds(self, r):
        found = [
            x
            for x in self.refunds
            if (not r.order_ids or x.order_id in r.order_ids)
            and (not r.ids or x.id in r.ids)
            and (not r.state or x.state == r.state)
        ]
        return payments_pb2.ListRefundsResponse(refunds=found)

    def RequestRefund(self, r):
        return payments_pb2.RequestRefundResponse(refund=self.refunds[0])

    def RefundOrder(self, r):
        made = refund("SUCCEEDED", stripe_refund_id="re_1", complete_time=timestamp(START))
        made.origin, made.amount = "ADMIN", r.amount or 5500
        return payments_pb2.RefundOrderResponse(refund=made)

    def DecideRefundRequest(self, r):
        state = "SUCCEEDED" if r.approve else "DECLINED"
        return payments_pb2.DecideRefundRequestResponse(
            refund=refund(state, outcome_reason=r.reason)
        )

    def ListRefundRuns(self, r):
        return payments_pb2.ListRefundRunsResponse(
            runs=[
                payments_pb2.RefundRun(
                    event_id="40000000-0000-4000-8000-000000000000",
                    state="RUNNING",
                    total=120,
                    done=40,
                    skipped=2,
                    failed=1,
                    create_time=timestamp(START),
                )
            ]
        )


class Admin(Context):
    async def user(self):
        return Claims(sub=CALLER, email="op@example.com", iat=0, exp=2**31, jti="j", roles=(ADMIN,))


async def as_admin(services: Services, query: str, variables: dict | None = None):
    reads = TicketReads(services, cache=None)
    context = Admin(
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


REQUEST = """mutation($input: RequestRefundInput!) {
  requestRefund(input: $input) {
    refund { id state origin amount { amount currencyCode } reason orderRef }
    userErrors { code field message }
  }
}"""


async def test_a_buyer_requests_a_refund_of_their_order():
    services = RefundServices()
    variables = {"input": {"orderId": gid("Order", oid(0)), "reason": "Cannot come"}}
    result = await run(services, REQUEST, variables)
    assert result.errors is None, result.errors
    assert result.data["requestRefund"] == {
        "refund": {
            "id": gid("Refund", REFUND_ID),
            "state": "REQUESTED",
            "origin": "BUYER",
            "amount": {"amount": "55.00", "currencyCode": "EUR"},
            "reason": "Cannot come",
            "orderRef": gid("Order", oid(0)),
        },
        "userErrors": [],
    }
    [asked] = services.asked("payments.RequestRefund")
    assert (asked.order_id, asked.reason) == (oid(0), "Cannot come")


async def test_a_refused_request_says_why_at_the_order():
    services = RefundServices()
    services.fail["RequestRefund"] = Conflict(
        "The event has started; a refund can no longer be requested"
    )
    variables = {"input": {"orderId": gid("Order", oid(0)), "reason": "Late"}}
    result = await run(services, REQUEST, variables)
    assert result.data["requestRefund"] == {
        "refund": None,
        "userErrors": [
            {
                "code": "CONFLICT",
                "field": ["input", "orderId"],
                "message": "The event has started; a refund can no longer be requested",
            }
        ],
    }


async def test_an_orders_refunds_come_from_payments_in_one_call():
    services = RefundServices()
    result = await run(
        services,
        """{ orders(first: 3) { nodes { refunds { state amount { amount } } } } }""",
    )
    assert result.errors is None, result.errors
    assert result.data["orders"]["nodes"] == [
        {"refunds": [{"state": "REQUESTED", "amount": {"amount": "55.00"}}]},
        {"refunds": []},
        {"refunds": []},
    ]
    [asked] = services.asked("payments.ListRefunds")
    assert list(asked.order_ids) == [oid(0), oid(1), oid(2)]


async def test_an_admin_refunds_part_of_an_order_in_minor_units_with_a_key():
    services = RefundServices()
    result = await as_admin(
        services,
        """mutation($input: RefundOrderInput!) {
          refundOrder(input: $input) {
            refund { state origin amount { amount currencyCode } completedAt }
            userErrors { code field }
          }
        }""",
        {
            "input": {
                "orderId": gid("Order", oid(0)),
                "amount": {"amount": "12.5", "currencyCode": "EUR"},
                "reason": "Obstructed view",
                "idempotencyKey": "refund-1",
            }
        },
    )
    assert result.errors is None, result.errors
    assert result.data["refundOrder"]["refund"] == {
        "state": "SUCCEEDED",
        "origin": "ADMIN",
        "amount": {"amount": "12.50", "currencyCode": "EUR"},
        "completedAt": "2026-11-01T00:00:00Z",
    }
    [asked] = services.asked("payments.RefundOrder")
    assert (asked.amount, asked.currency_code, asked.idempotency_key) == (1250, "EUR", "refund-1")


async def test_too_much_is_a_user_error_on_the_amount():
    services = RefundServices()
    services.fail["RefundOrder"] = InvalidInput(
        "At most 45.00 EUR is left to refund", field="amount"
    )
    result = await as_admin(
        services,
        """mutation($input: RefundOrderInput!) {
          refundOrder(input: $input) { refund { state } userErrors { code field message } }
        }""",
        {
            "input": {
                "orderId": gid("Order", oid(0)),
                "amount": {"amount": "50", "currencyCode": "EUR"},
                "reason": "x",
                "idempotencyKey": "k",
            }
        },
    )
    assert result.data["refundOrder"] == {
        "refund": None,
        "userErrors": [
            {
                "code": "BAD_USER_INPUT",
                "field": ["input", "amount"],
                "message": "At most 45.00 EUR is left to refund",
            }
        ],
    }


async def test_a_buyer_is_refused_the_admins_refunds_before_any_call():
    services = RefundServices()
    result = await run(
        services,
        """mutation($input: RefundOrderInput!) {
          refundOrder(input: $input) { refund { state } userErrors { code } }
        }""",
        {"input": {"orderId": gid("Order", oid(0)), "reason": "x", "idempotencyKey": "k"}},
    )
    assert result.data["refundOrder"] == {"refund": None, "userErrors": [{"code": "FORBIDDEN"}]}
    listed = await run(services, "{ refundRequests { id } refundRuns { total } }")
    assert listed.data is None or listed.data == {"refundRequests": None, "refundRuns": None}
    assert sorted(errors(listed)) == [
        (["refundRequests"], "FORBIDDEN"),
        (["refundRuns"], "FORBIDDEN"),
    ]
    assert services.asked("payments.RefundOrder") == []
    assert services.asked("payments.ListRefunds") == services.asked("payments.ListRefundRuns") == []


async def test_an_admin_lists_requests_decides_one_and_follows_refund_runs():
    services = RefundServices()
    result = await as_admin(
        services,
        """{
          refundRequests(first: 10) { id state reason }
          refundRuns { eventRef state total done skipped failed finishedAt }
        }""",
    )
    assert result.errors is None, result.errors
    assert result.data["refundRequests"] == [
        {"id": gid("Refund", REFUND_ID), "state": "REQUESTED", "reason": "Cannot come"}
    ]
    assert result.data["refundRuns"] == [
        {
            "eventRef": gid("Event", "40000000-0000-4000-8000-000000000000"),
            "state": "RUNNING",
            "total": 120,
            "done": 40,
            "skipped": 2,
            "failed": 1,
            "finishedAt": None,
        }
    ]
    [listed] = services.asked("payments.ListRefunds")
    assert (listed.state, listed.limit) == ("REQUESTED", 10)

    decided = await as_admin(
        services,
        """mutation($input: DecideRefundRequestInput!) {
          decideRefundRequest(input: $input) { refund { state outcomeReason } userErrors { code } }
        }""",
        {"input": {"refundId": gid("Refund", REFUND_ID), "approve": False, "reason": "Terms"}},
    )
    assert decided.data["decideRefundRequest"] == {
        "refund": {"state": "DECLINED", "outcomeReason": "Terms"},
        "userErrors": [],
    }
    [asked] = services.asked("payments.DecideRefundRequest")
    assert (asked.refund_id, asked.approve, asked.reason) == (REFUND_ID, False, "Terms")

    node = await as_admin(
        services,
        "query($id: ID!) { node(id: $id) { ... on Refund { state } } }",
        {"id": gid("Refund", REFUND_ID)},
    )
    assert node.data == {"node": {"state": "REQUESTED"}}

    too_many = await as_admin(services, "{ refundRequests(first: 201) { id } }")
    assert errors(too_many) == [(["refundRequests"], "BAD_USER_INPUT")]
