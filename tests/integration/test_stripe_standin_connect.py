"""The Stripe stand-in (`stripe_standin/`), driven only through the official SDK as the payments
service drives Stripe: a charge and its refunds, an Express account onboarded, a transfer drawing
on a charge and its reversal, the balance transactions all of them make, idempotent replay, and
Stripe's errors. Every answer is also checked against the contract from Stripe's OpenAPI
description (tests/contract/stripe_contract.json)."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Iterator

import httpx
import pytest
import stripe

from tests.support import stripe_standin
from tests.support.stripe_standin import answer, violations

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api_base() -> Iterator[str]:
    with stripe_standin.running() as url:
        yield url


@pytest.fixture
def sdk(api_base: str) -> stripe.StripeClient:
    return stripe_standin.client(api_base)


def conforms(kind: str, stripe_object) -> dict:
    """The raw answer behind an SDK object, after checking it against the contract."""
    body = answer(stripe_object)
    assert violations(kind, body) == []
    return body


def paid(sdk: stripe.StripeClient, cents: int = 5000, currency: str = "eur", group=None):
    params = {
        "amount": cents,
        "currency": currency,
        "payment_method": "pm_card_visa",
        "confirm": True,
        "payment_method_types": ["card"],
    }
    if group:
        params["transfer_group"] = group
    intent = sdk.v1.payment_intents.create(params)
    conforms("payment_intent", intent)
    return intent


def onboarded_account(sdk: stripe.StripeClient, api_base: str, account=None):
    """An Express account (a new one unless given) whose seller completed onboarding, through
    the stand-in's test endpoint (not Stripe's API: Stripe's hosted onboarding does this)."""
    account = account or sdk.v1.accounts.create({"type": "express", "email": "s@example.com"})
    httpx.post(f"{api_base}/_standin/accounts/{account.id}/complete_onboarding").raise_for_status()
    return sdk.v1.accounts.retrieve(account.id)


def test_a_charge_refunds_in_part_then_refuses_more_than_is_left(sdk):
    intent = paid(sdk, cents=5000)
    assert intent.status == "succeeded" and intent.id.startswith("pi_")
    assert intent.latest_charge.startswith("ch_")
    assert conforms("payment_intent", sdk.v1.payment_intents.retrieve(intent.id))["amount"] == 5000

    refund = sdk.v1.refunds.create(
        {
            "payment_intent": intent.id,
            "amount": 2000,
            "reason": "requested_by_customer",
            "metadata": {"order": "o-1"},
        }
    )
    body = conforms("refund", refund)
    assert refund.id.startswith("re_")
    assert (body["amount"], body["charge"], body["reason"]) == (
        2000,
        intent.latest_charge,
        "requested_by_customer",
    )
    assert body["metadata"] == {"order": "o-1"}

    with pytest.raises(stripe.InvalidRequestError) as refused:
        sdk.v1.refunds.create({"charge": intent.latest_charge, "amount": 3001})
    assert refused.value.http_status == 400 and refused.value.param == "amount"
    assert violations("error", refused.value.json_body) == []

    rest = sdk.v1.refunds.create({"charge": intent.latest_charge})
    assert rest.amount == 3000
    charge = sdk.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    with pytest.raises(stripe.InvalidRequestError) as again:
        sdk.v1.refunds.create({"payment_intent": intent.id})
    assert again.value.code == "charge_already_refunded"


def test_a_declined_card_is_a_card_error_naming_the_intent(sdk):
    with pytest.raises(stripe.CardError) as declined:
        sdk.v1.payment_intents.create(
            {
                "amount": 1000,
                "currency": "usd",
                "confirm": True,
                "payment_method": "pm_card_chargeDeclined",
            }
        )
    assert declined.value.http_status == 402 and declined.value.code == "card_declined"
    assert violations("error", declined.value.json_body) == []
    intent = declined.value.json_body["error"]["payment_intent"]
    assert violations("payment_intent", intent) == []
    assert intent["status"] == "requires_payment_method"


def test_an_express_account_is_incomplete_until_onboarding_completes(sdk, api_base):
    account = sdk.v1.accounts.create(
        {"type": "express", "country": "US", "metadata": {"user": "seller-1"}}
    )
    body = conforms("account", account)
    assert account.id.startswith("acct_")
    assert (body["charges_enabled"], body["payouts_enabled"], body["details_submitted"]) == (
        False,
        False,
        False,
    )
    assert body["requirements"]["currently_due"]

    link = sdk.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://t.example/refresh",
            "return_url": "https://t.example/return",
        }
    )
    link_body = conforms("account_link", link)
    assert link_body["url"].startswith("http") and link_body["expires_at"] > time.time()

    done = onboarded_account(sdk, api_base, account)
    assert done.id == account.id
    body = conforms("account", done)
    assert (body["charges_enabled"], body["payouts_enabled"], body["details_submitted"]) == (
        True,
        True,
        True,
    )
    assert body["requirements"]["currently_due"] == []


def test_a_transfer_draws_on_its_charge_and_reverses(sdk, api_base):
    group = f"order-{uuid.uuid4()}"
    intent = paid(sdk, cents=10000, group=group)
    seller = onboarded_account(sdk, api_base)
    transfer = sdk.v1.transfers.create(
        {
            "amount": 9000,
            "currency": "eur",
            "destination": seller.id,
            "transfer_group": group,
            "source_transaction": intent.latest_charge,
            "metadata": {"order": group},
        }
    )
    body = conforms("transfer", transfer)
    assert transfer.id.startswith("tr_")
    assert (body["source_transaction"], body["transfer_group"], body["destination"]) == (
        intent.latest_charge,
        group,
        seller.id,
    )

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        sdk.v1.transfers.create(
            {
                "amount": 1001,
                "currency": "eur",
                "destination": seller.id,
                "source_transaction": intent.latest_charge,
            }
        )
    assert too_much.value.param == "amount"

    reversal = sdk.v1.transfers.reversals.create(transfer.id, {"amount": 4000})
    assert conforms("transfer_reversal", reversal)["transfer"] == transfer.id
    assert reversal.id.startswith("trr_")
    partly = conforms("transfer", sdk.v1.transfers.retrieve(transfer.id))
    assert (partly["amount_reversed"], partly["reversed"]) == (4000, False)
    # What the reversal gave back, the charge can fund again.
    sdk.v1.transfers.create(
        {
            "amount": 5000,
            "currency": "eur",
            "destination": seller.id,
            "source_transaction": intent.latest_charge,
        }
    )
    sdk.v1.transfers.reversals.create(transfer.id)
    whole = sdk.v1.transfers.retrieve(transfer.id)
    assert (whole.amount_reversed, whole.reversed) == (9000, True)


def test_a_transfer_needs_a_payable_existing_destination(sdk):
    fresh = sdk.v1.accounts.create({"type": "express"})
    with pytest.raises(stripe.InvalidRequestError) as not_payable:
        sdk.v1.transfers.create({"amount": 100, "currency": "eur", "destination": fresh.id})
    assert not_payable.value.param == "destination"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        sdk.v1.transfers.create({"amount": 100, "currency": "eur", "destination": "acct_none"})
    assert (unknown.value.code, unknown.value.param) == ("resource_missing", "destination")
    with pytest.raises(stripe.InvalidRequestError) as no_such:
        sdk.v1.transfers.retrieve("tr_none")
    assert (no_such.value.http_status, no_such.value.code) == (404, "resource_missing")
    assert violations("error", no_such.value.json_body) == []


def test_balance_transactions_sum_per_source_as_stripes_do(sdk, api_base):
    since = int(time.time())
    group = f"order-{uuid.uuid4()}"
    intent = paid(sdk, cents=10000, group=group)
    refund = sdk.v1.refunds.create({"payment_intent": intent.id, "amount": 1000})
    seller = onboarded_account(sdk, api_base)
    transfer = sdk.v1.transfers.create(
        {
            "amount": 8000,
            "currency": "eur",
            "destination": seller.id,
            "transfer_group": group,
            "source_transaction": intent.latest_charge,
        }
    )
    reversal = sdk.v1.transfers.reversals.create(transfer.id, {"amount": 500})
    mine = {intent.latest_charge, refund.id, transfer.id, reversal.id}

    listed, after = [], None
    while True:
        params = {"limit": 2, "created": {"gte": since}}
        if after:
            params["starting_after"] = after
        page = sdk.v1.balance_transactions.list(params)
        envelope = answer(page)
        assert (envelope["object"], envelope["url"]) == ("list", "/v1/balance_transactions")
        for entry in envelope["data"]:
            assert violations("balance_transaction", entry) == []
        listed += envelope["data"]
        if not envelope["has_more"]:
            break
        after = envelope["data"][-1]["id"]
    assert all(e["id"].startswith("txn_") for e in listed)
    assert len({e["id"] for e in listed}) == len(listed)
    by_source = defaultdict(list)
    for entry in listed:
        by_source[entry["source"]].append(entry)
    assert mine <= set(by_source)

    (charged,) = by_source[intent.latest_charge]
    assert (charged["type"], charged["amount"]) == ("charge", 10000)
    assert charged["fee"] > 0 and charged["net"] == 10000 - charged["fee"]
    assert [(e["type"], e["net"]) for e in by_source[refund.id]] == [("refund", -1000)]
    assert [(e["type"], e["net"]) for e in by_source[transfer.id]] == [("transfer", -8000)]
    assert [(e["type"], e["net"]) for e in by_source[reversal.id]] == [("transfer_refund", 500)]
    kept = sum(e["net"] for source in mine for e in by_source[source])
    assert kept == 10000 - charged["fee"] - 1000 - 8000 + 500
    assert all(e["currency"] == "eur" for source in mine for e in by_source[source])


def test_an_idempotency_key_replays_the_first_answer_and_refuses_other_parameters(sdk):
    key = f"charge-{uuid.uuid4()}"
    params = {"amount": 1234, "currency": "gbp", "payment_method": "pm_card_visa", "confirm": True}
    first = sdk.v1.payment_intents.create(params, {"idempotency_key": key})
    again = sdk.v1.payment_intents.create(params, {"idempotency_key": key})
    assert again.id == first.id and again.latest_charge == first.latest_charge
    with pytest.raises(stripe.IdempotencyError) as mismatch:
        sdk.v1.payment_intents.create({**params, "amount": 999}, {"idempotency_key": key})
    assert violations("error", mismatch.value.json_body) == []


def test_a_key_that_is_not_secret_is_refused(api_base):
    with pytest.raises(stripe.AuthenticationError) as refused:
        stripe_standin.client(api_base, key="pk_test_public").v1.accounts.retrieve("acct_1")
    assert refused.value.http_status == 401
    assert violations("error", refused.value.json_body) == []
