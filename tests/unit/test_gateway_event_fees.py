"""An event's own fees in the API: operators set them (setEventFees, refusals as userErrors on
the input's fields), Event.feeOverride shows them, and the event's all-in prices and the sell
form's quote (feeQuote's eventId) are payments' answer for that event."""

from __future__ import annotations

from decimal import Decimal

from svc_catalogue.domain.fees import check_fee_override
from svc_payments.domain.fees import FeeOverride
from tests.unit.gateway_v1_world import gid
from tests.unit.test_gateway_events import Admin, Catalogue, Member, event, run
from ticketing.catalogue.v1 import catalogue_pb2 as pb

SET_FEES = """
mutation ($input: SetEventFeesInput!) {
  setEventFees(input: $input) {
    event { version feeOverride { buyerFeePercent sellerCommissionPercent
      buyerFeeFixed { amount currencyCode } } }
    userErrors { code field }
  }
}"""


class WithFees(Catalogue):
    def __init__(self) -> None:
        super().__init__()
        self.catalogue.SetEventFees = "catalogue.SetEventFees"

    def SetEventFees(self, r):
        # The catalogue's own check, so that its field names reach the client as they are.
        given = r.fee_override
        check_fee_override(
            given.buyer_fee_percent,
            [(f.amount, f.currency_code) for f in given.buyer_fee_fixed],
            given.seller_commission_percent,
        )
        return pb.SetEventFeesResponse(event=event(1, version=1, fee_override=given))


async def test_an_admin_sets_an_events_fees_and_reads_them_back():
    services = WithFees()
    fees = {
        "id": gid("Event", event(1).id),
        "expectedVersion": 0,
        "buyerFeePercent": "7.5",
        "buyerFeeFixed": [{"amount": "0.25", "currencyCode": "USD"}],
    }
    done = await run(services, SET_FEES, {"input": fees}, as_=Admin)
    assert done.errors is None
    assert done.data["setEventFees"] == {
        "event": {
            "version": 1,
            "feeOverride": {
                "buyerFeePercent": "7.5",
                "sellerCommissionPercent": None,
                "buyerFeeFixed": [{"amount": "0.25", "currencyCode": "USD"}],
            },
        },
        "userErrors": [],
    }
    [asked] = services.asked("catalogue.SetEventFees")
    assert asked.fee_override.buyer_fee_fixed[0].amount == "0.25"
    assert asked.fee_override.seller_commission_percent == ""


async def test_bad_fees_and_a_member_are_refused_as_user_errors():
    services = WithFees()
    base = {"id": gid("Event", event(1).id), "expectedVersion": 0}
    bad = await run(
        services, SET_FEES, {"input": {**base, "sellerCommissionPercent": "120"}}, as_=Admin
    )
    assert bad.data["setEventFees"] == {
        "event": None,
        "userErrors": [{"code": "BAD_USER_INPUT", "field": ["input", "sellerCommissionPercent"]}],
    }
    fixed = [{"amount": "1", "currencyCode": "USD"}, {"amount": "0.001", "currencyCode": "EUR"}]
    nested = await run(services, SET_FEES, {"input": {**base, "buyerFeeFixed": fixed}}, as_=Admin)
    assert nested.data["setEventFees"]["userErrors"] == [
        {"code": "BAD_USER_INPUT", "field": ["input", "buyerFeeFixed[1].amount"]}
    ]
    member = await run(services, SET_FEES, {"input": {**base, "buyerFeePercent": "1"}}, as_=Member)
    assert member.data["setEventFees"]["userErrors"] == [
        {"code": "FORBIDDEN", "field": ["input", "id"]}
    ]
    assert len(services.asked("catalogue.SetEventFees")) == 2  # the member's never reached it


async def test_an_events_all_in_price_and_quote_are_its_own_fees():
    services = WithFees()
    own = event(1, lowest_price="20.00", currency_code="USD", tickets_for_sale=2)
    services.events[0] = own
    # payments' copy of the event's fees: no buyer's fee of its own percent, 1.00 fixed.
    services.event_fees[own.id] = services.fees.with_override(
        FeeOverride(Decimal(0), (("USD", Decimal("1.00")),), Decimal(0))
    )
    query = """
    query ($id: ID!) {
      event(id: $id) { lowestAllInPrice { amount } feeOverride { buyerFeePercent } }
      other: event(id: $other) { lowestAllInPrice { amount } }
      eventQuote: feeQuote(price: {amount: "20.00", currencyCode: USD}, eventId: $id) {
        allInPrice { amount } sellerProceeds { amount } }
      standard: feeQuote(price: {amount: "20.00", currencyCode: USD}) {
        allInPrice { amount } sellerProceeds { amount } }
    }""".replace("$id: ID!)", "$id: ID!, $other: ID!)")
    services.events[1] = event(2, lowest_price="20.00", currency_code="USD", tickets_for_sale=1)
    result = await run(
        services, query, {"id": gid("Event", own.id), "other": gid("Event", services.events[1].id)}
    )
    assert result.errors is None
    assert result.data == {
        "event": {"lowestAllInPrice": {"amount": "21.00"}, "feeOverride": None},
        "other": {"lowestAllInPrice": {"amount": "22.50"}},
        "eventQuote": {"allInPrice": {"amount": "21.00"}, "sellerProceeds": {"amount": "20.00"}},
        "standard": {"allInPrice": {"amount": "22.50"}, "sellerProceeds": {"amount": "19.00"}},
    }
    lines = [line for asked in services.asked("payments.QuoteFees") for line in asked.lines]
    assert {line.event_id for line in lines} == {own.id, services.events[1].id, ""}
