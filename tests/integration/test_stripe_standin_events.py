"""The Stripe stand-in's Events and webhooks, through the official SDK: an endpoint registered
with `stripe.WebhookEndpoint.create` (or `--webhook` at start) gets every event it asked for,
signed so that `stripe.Webhook.construct_event` accepts it, again after a failed delivery; the
events read back by id and by list; the 3-D Secure step and onboarding emit theirs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import stripe

from tests.support import stripe_standin
from tests.support.stripe_standin import Receiver, answer, violations

pytestmark = pytest.mark.integration

SECRET = "whsec_standin_tests"


@pytest.fixture(scope="module")
def api_base() -> Iterator[str]:
    with stripe_standin.running() as url:
        yield url


@pytest.fixture
def sdk(api_base: str) -> stripe.StripeClient:
    return stripe_standin.client(api_base)


def pay(sdk: stripe.StripeClient, method: str = "pm_card_visa", cents: int = 2500):
    params = {"amount": cents, "currency": "usd", "payment_method": method, "confirm": True}
    return sdk.v1.payment_intents.create(params)


def test_an_endpoint_gets_the_events_it_asked_for_signed_with_its_secret(sdk):
    with Receiver() as receiver:
        endpoint = sdk.v1.webhook_endpoints.create(
            {"url": receiver.url, "enabled_events": ["payment_intent.succeeded"]}
        )
        assert violations("webhook_endpoint", answer(endpoint)) == []
        assert endpoint.secret.startswith("whsec_")
        try:
            intent = pay(sdk)
            [event] = receiver.events(endpoint.secret)
        finally:
            sdk.v1.webhook_endpoints.delete(endpoint.id)
    assert (event.type, event.data.object.id) == ("payment_intent.succeeded", intent.id)
    assert event.data.object.status == "succeeded"
    # Signed with that endpoint's secret and no other: another secret is refused.
    body, signature = receiver.deliveries[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature, "whsec_someone_else")
    # The same event, read back by id and listed.
    again = sdk.v1.events.retrieve(event.id)
    assert violations("event", answer(again)) == []
    assert again.data.object.id == intent.id
    listed = sdk.v1.events.list({"type": "payment_intent.succeeded", "limit": 5})
    assert listed.data[0].id == event.id


def test_a_failed_delivery_is_tried_again_and_a_deleted_endpoint_gets_nothing(sdk):
    with Receiver(failures=1) as receiver:
        endpoint = sdk.v1.webhook_endpoints.create(
            {"url": receiver.url, "enabled_events": ["charge.refunded"]}
        )
        intent = pay(sdk)
        sdk.v1.refunds.create({"payment_intent": intent.id, "amount": 500})
        events = receiver.events(endpoint.secret, count=2)
        assert receiver.answered[:2] == [500, 200]
        assert events[0].id == events[1].id and events[0].type == "charge.refunded"
        assert events[1].data.object.amount_refunded == 500
        sdk.v1.webhook_endpoints.delete(endpoint.id)
        sdk.v1.refunds.create({"payment_intent": intent.id})
        time.sleep(1)
    assert len(receiver.deliveries) == 2  # the sentinel: nothing after the endpoint went


def test_events_list_by_type_and_wildcard_newest_first(sdk, api_base):
    first, second = pay(sdk), pay(sdk)
    succeeded = sdk.v1.events.list({"type": "payment_intent.succeeded", "limit": 2}).data
    assert [e.data.object.id for e in succeeded] == [second.id, first.id]
    charges = sdk.v1.events.list({"type": "charge.*", "limit": 100}).data
    assert {e.type for e in charges} <= {"charge.succeeded", "charge.failed", "charge.refunded"}
    assert second.latest_charge in {e.data.object.id for e in charges}
    with pytest.raises(stripe.InvalidRequestError) as missing:
        sdk.v1.events.retrieve("evt_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_the_3d_secure_step_completes_or_fails_with_its_events(sdk, api_base):
    done, failed = (
        pay(sdk, "pm_card_threeDSecure2Required"),
        pay(sdk, "pm_card_authenticationRequired"),
    )
    assert done.status == failed.status == "requires_action"
    for intent, success in ((done, "true"), (failed, "false")):
        httpx.post(
            f"{api_base}/_standin/payment_intents/{intent.id}/authenticate",
            data={"client_secret": intent.client_secret, "success": success},
        ).raise_for_status()
    assert sdk.v1.payment_intents.retrieve(done.id).status == "succeeded"
    after = sdk.v1.payment_intents.retrieve(failed.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "payment_intent_authentication_failure"
    kinds = {
        (e.type, e.data.object.id)
        for e in sdk.v1.events.list({"type": "payment_intent.*", "limit": 100}).data
    }
    assert {
        ("payment_intent.requires_action", done.id),
        ("payment_intent.succeeded", done.id),
        ("payment_intent.payment_failed", failed.id),
    } <= kinds
    assert ("payment_intent.succeeded", failed.id) not in kinds
    # A wrong client secret is refused, and an intent no longer waiting cannot be answered.
    wrong = httpx.post(
        f"{api_base}/_standin/payment_intents/{done.id}/authenticate",
        data={"client_secret": failed.client_secret, "success": "true"},
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "client_secret"


def test_onboarding_emits_account_updated_and_withholding_leaves_requirements_due(sdk, api_base):
    account = sdk.v1.accounts.create({"type": "express", "email": "s@example.com"})
    httpx.post(f"{api_base}/_standin/accounts/{account.id}/withhold_onboarding").raise_for_status()
    withheld = sdk.v1.accounts.retrieve(account.id)
    assert (withheld.details_submitted, withheld.payouts_enabled) == (True, False)
    assert withheld.requirements.currently_due == ["individual.verification.document"]
    httpx.post(f"{api_base}/_standin/accounts/{account.id}/complete_onboarding").raise_for_status()
    updates = [
        e
        for e in sdk.v1.events.list({"type": "account.updated", "limit": 100}).data
        if e.data.object.id == account.id
    ]
    assert [e.data.object.payouts_enabled for e in updates] == [True, False]  # newest first
    assert updates[0].data.previous_attributes.payouts_enabled is False


def test_a_webhook_given_at_start_is_delivered_with_the_secret_given():
    with Receiver() as receiver:
        options = ("--webhook", receiver.url, "--webhook-secret", SECRET)
        with stripe_standin.running(*options) as url:
            intent = pay(stripe_standin.client(url))
            events = receiver.events(SECRET, count=3)
    assert ("payment_intent.succeeded", intent.id) in {(e.type, e.data.object.id) for e in events}
