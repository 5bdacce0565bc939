"""Disputes in the Stripe stand-in, through the official SDK: a `pm_card_createDispute` charge is
disputed as fraudulent, the amount and the fee leave the balance; evidence is updated and
submitted; a dispute closed is lost, one decided won brings the amount back; each step is an
event. Also Stripe's request checks: an unknown or missing parameter is a 400 naming it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import stripe

from tests.support import stripe_standin
from tests.support.stripe_standin import answer, violations

pytestmark = pytest.mark.integration

DISPUTE_FEE = 1500


@pytest.fixture(scope="module")
def api_base() -> Iterator[str]:
    with stripe_standin.running() as url:
        yield url


@pytest.fixture
def sdk(api_base: str) -> stripe.StripeClient:
    return stripe_standin.client(api_base)


def disputed(sdk: stripe.StripeClient, cents: int = 4000, method: str = "pm_card_createDispute"):
    intent = sdk.v1.payment_intents.create(
        {"amount": cents, "currency": "usd", "payment_method": method, "confirm": True}
    )
    [dispute] = sdk.v1.disputes.list({"payment_intent": intent.id}).data
    return intent, dispute


def test_a_disputed_charge_takes_the_amount_and_the_fee(sdk):
    intent, dispute = disputed(sdk)
    body = answer(sdk.v1.disputes.retrieve(dispute.id))
    assert violations("dispute", body) == []
    assert intent.status == "succeeded"  # paid first, disputed after
    assert (body["status"], body["reason"], body["amount"]) == (
        "needs_response",
        "fraudulent",
        4000,
    )
    assert body["charge"] == intent.latest_charge and body["payment_intent"] == intent.id
    assert body["evidence_details"]["due_by"] > time.time() + 6 * 86400
    assert body["evidence_details"]["has_evidence"] is False
    [withdrawn] = body["balance_transactions"]
    assert (withdrawn["amount"], withdrawn["fee"], withdrawn["net"]) == (
        -4000,
        DISPUTE_FEE,
        -4000 - DISPUTE_FEE,
    )
    assert withdrawn["reporting_category"] == "dispute"
    listed = sdk.v1.balance_transactions.list({"source": dispute.id}).data
    assert [t.id for t in listed] == [withdrawn["id"]]
    charge = answer(sdk.v1.charges.retrieve(intent.latest_charge))
    assert violations("charge", charge) == []
    assert charge["disputed"] is True
    assert [d.id for d in sdk.v1.disputes.list({"charge": charge["id"]}).data] == [dispute.id]
    kinds = [
        e.type
        for e in sdk.v1.events.list({"type": "charge.dispute.*"}).data
        if e.data.object.id == dispute.id
    ]
    assert "charge.dispute.created" in kinds


def test_the_test_card_number_disputes_too(sdk):
    card = {"number": "4000000000000259", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    method = sdk.v1.payment_methods.create({"type": "card", "card": card})
    assert violations("payment_method", answer(method)) == []
    _, dispute = disputed(sdk, 1234, method.id)
    assert (dispute.amount, dispute.status) == (1234, "needs_response")


def test_evidence_submitted_puts_it_under_review_and_a_won_dispute_returns_the_amount(
    sdk, api_base
):
    _, dispute = disputed(sdk, 2500)
    saved = sdk.v1.disputes.update(
        dispute.id,
        {
            "evidence": {"customer_name": "Ada Buyer", "uncategorized_text": "Ticket scanned"},
            "metadata": {"order_id": "o-1"},
            "submit": False,
        },
    )
    assert (saved.status, saved.evidence.customer_name) == ("needs_response", "Ada Buyer")
    assert saved.evidence_details.has_evidence and saved.evidence_details.submission_count == 0
    submitted = sdk.v1.disputes.update(dispute.id, {"submit": True})
    assert (submitted.status, submitted.evidence_details.submission_count) == ("under_review", 1)
    assert submitted.metadata.to_dict() == {"order_id": "o-1"}
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        sdk.v1.disputes.update(dispute.id, {"evidence": {"favourite_colour": "blue"}})
    assert unknown.value.param == "evidence[favourite_colour]"

    decided = httpx.post(
        f"{api_base}/_standin/disputes/{dispute.id}/decide", data={"status": "won"}
    )
    decided.raise_for_status()
    won = sdk.v1.disputes.retrieve(dispute.id)
    assert won.status == "won"
    assert [(t.amount, t.fee) for t in won.balance_transactions] == [
        (-2500, DISPUTE_FEE),
        (2500, 0),
    ]
    closed = [
        e
        for e in sdk.v1.events.list({"type": "charge.dispute.closed"}).data
        if e.data.object.id == dispute.id
    ]
    assert closed[0].data.object.status == "won"
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.disputes.close(dispute.id)  # decided already


def test_a_closed_dispute_is_lost_and_the_money_stays_gone(sdk):
    _, dispute = disputed(sdk, 3000)
    lost = sdk.v1.disputes.close(dispute.id)
    assert lost.status == "lost"
    assert [t.amount for t in lost.balance_transactions] == [-3000]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        sdk.v1.disputes.retrieve("du_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_an_unknown_or_missing_parameter_is_refused_naming_it(sdk):
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        sdk.v1.payment_intents.create(
            {"amount": 100, "currency": "usd", "favourite_colour": "blue"}
        )
    assert unknown.value.http_status == 400
    assert unknown.value.param == "favourite_colour"
    assert str(unknown.value.user_message) == "Received unknown parameter: favourite_colour"
    for create, params, param in (
        (sdk.v1.payment_intents.create, {"amount": 100}, "currency"),
        (sdk.v1.webhook_endpoints.create, {"enabled_events": ["*"]}, "url"),
        (sdk.v1.webhook_endpoints.create, {"url": "https://example.com/hook"}, "enabled_events"),
        (sdk.v1.transfers.create, {"amount": 100, "destination": "acct_x"}, "currency"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as missing:
            create(params)
        assert (missing.value.param, missing.value.code) == (param, "parameter_missing")
    with pytest.raises(stripe.InvalidRequestError) as listing:
        sdk.v1.disputes.list({"colour": "blue"})
    assert listing.value.param == "colour"
