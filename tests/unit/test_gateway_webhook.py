"""The Stripe webhook's refusals, which are all decided before payments is asked: payments here
is an address nobody listens on, so a request that got as far as asking it would be answered 503
(the sentinel). Settling through a real payments service is in
tests/integration/test_payments_service.py."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from common.devstack import free_port
from common.settings import ConfigError
from gateway.clients import ServiceClients
from gateway.config import GatewaySettings
from gateway.webhooks import TOLERANCE_SECONDS, stripe_webhook_route

SECRET = "whsec_unit_test"
PATH = "/webhooks/stripe"


def signed(payload: str, at: int | None = None) -> dict[str, str]:
    """Stripe's signing scheme: t=<unix time>,v1=hex(HMAC-SHA256(secret, "<t>.<payload>"))."""
    at = int(time.time()) if at is None else at
    digest = hmac.new(SECRET.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return {"stripe-signature": f"t={at},v1={digest}", "content-type": "application/json"}


def event(intent_id: object = "pi_123", kind: object = "payment_intent.succeeded") -> str:
    return json.dumps(
        {"id": "evt_1", "object": "event", "type": kind, "data": {"object": {"id": intent_id}}}
    )


@pytest.fixture
async def webhook() -> AsyncIterator[httpx.AsyncClient]:
    settings = GatewaySettings.from_env({"PAYMENTS_ADDR": f"127.0.0.1:{free_port()}"})
    clients = ServiceClients(settings)
    app = Starlette(routes=[stripe_webhook_route(clients, SECRET)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client
    await clients.close()


async def post(webhook: httpx.AsyncClient, body: str, **signing: int) -> httpx.Response:
    return await webhook.post(PATH, content=body, headers=signed(body, **signing))


async def test_a_well_formed_event_reaches_payments(webhook: httpx.AsyncClient) -> None:
    # The sentinel: with payments down, an event that gets past every check is a 503.
    assert (await post(webhook, event())).status_code == 503


@pytest.mark.parametrize(
    "body",
    ["null", "[]", '"payment_intent.succeeded"', "42", "true", "[" * 100_000 + "]" * 100_000],
)
async def test_a_signed_body_that_is_not_an_event_object_is_a_400(
    webhook: httpx.AsyncClient, body: str
) -> None:
    reply = await post(webhook, body)
    assert reply.status_code == 400
    [error] = reply.json()["errors"]
    assert error["message"].startswith("Invalid payload") and error["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"type": "payment_intent.succeeded"}),
        json.dumps({"type": "payment_intent.succeeded", "data": None}),
        json.dumps({"type": "payment_intent.succeeded", "data": {"object": ["pi_1"]}}),
        event(intent_id=None),
        event(intent_id=12345),
        event(intent_id={"id": "pi_1"}),
        event(intent_id=""),
        event(intent_id="cus_123"),
        event(intent_id="pi_../../v1/charges"),
        event(intent_id="pi_\u0000\ud800"),
    ],
)
async def test_a_settling_event_without_a_well_formed_intent_id_is_a_400(
    webhook: httpx.AsyncClient, body: str
) -> None:
    reply = await post(webhook, body)
    assert reply.status_code == 400
    [error] = reply.json()["errors"]
    assert error["message"].startswith("Invalid payload") and error["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("kind", [["payment_intent.succeeded"], {"a": 1}, None, 7, "charge.x"])
async def test_an_event_of_another_or_no_type_is_acknowledged_and_ignored(
    webhook: httpx.AsyncClient, kind: object
) -> None:
    reply = await post(webhook, event(kind=kind))
    assert (reply.status_code, reply.json()) == (200, {"received": True, "ignored": True})


async def test_an_oversized_intent_id_is_a_400_and_not_logged_verbatim(
    webhook: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    oversized = "pi_" + "A" * 100_000
    with caplog.at_level(logging.DEBUG):
        reply = await post(webhook, event(intent_id=oversized))
    assert reply.status_code == 400
    logged = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "malformed PaymentIntent id" in logged  # it is logged, in a short form
    assert "A" * 100 not in logged
    assert len(logged) < 2_000


async def test_a_well_formed_intent_id_of_the_longest_kind_is_accepted(
    webhook: httpx.AsyncClient,
) -> None:
    assert (await post(webhook, event(intent_id="pi_" + "a" * 252))).status_code == 503
    assert (await post(webhook, event(intent_id="pi_" + "a" * 253))).status_code == 400


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        (-TOLERANCE_SECONDS - 60, 400),  # a replayed old delivery
        (TOLERANCE_SECONDS + 60, 400),  # signed in the future
        (10**9, 400),
        (-60, 503),  # within the tolerance, either way: it goes on to payments
        (60, 503),
    ],
)
async def test_a_signature_made_outside_the_tolerance_either_way_is_refused(
    webhook: httpx.AsyncClient, offset: int, status: int
) -> None:
    reply = await post(webhook, event(), at=int(time.time()) + offset)
    assert reply.status_code == status
    if status == 400:
        assert reply.json() == {
            "errors": [{"message": "Invalid Stripe signature", "code": "BAD_USER_INPUT"}]
        }
    else:  # payments is not reachable here
        assert reply.json()["errors"][0]["code"] == "UNAVAILABLE"


@pytest.mark.parametrize(
    "header",
    ["", "t=abc,v1=00", "v1=00", "t=1", "t=1=2,v1=00", "t=,v1=", ",,,", "t=1,v1=00,v1=11"],
)
async def test_a_malformed_signature_header_is_a_400(
    webhook: httpx.AsyncClient, header: str
) -> None:
    reply = await webhook.post(PATH, content=event(), headers={"stripe-signature": header})
    assert reply.status_code == 400


async def test_a_body_that_is_not_utf8_is_a_400(webhook: httpx.AsyncClient) -> None:
    body = b'{"type": "\xff"}'
    at = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    reply = await webhook.post(
        PATH, content=body, headers={"stripe-signature": f"t={at},v1={digest}"}
    )
    assert reply.status_code == 400


# -- account.updated: a seller's connected account (SyncSellerAccount) -----------------------


async def test_an_account_update_with_an_account_id_reaches_payments(
    webhook: httpx.AsyncClient,
) -> None:
    reply = await post(webhook, event("acct_1Nv0FGQ9RKHgCVdK", kind="account.updated"))
    assert reply.status_code == 503  # the sentinel: it went on to payments, which is down


@pytest.mark.parametrize(
    "account_id",
    [None, "", "pi_123", "acct_", "acct_../../v1/accounts", "acct_" + "a" * 251, {"id": "acct_1"}],
)
async def test_an_account_update_without_a_well_formed_account_id_is_a_400(
    webhook: httpx.AsyncClient, account_id: object
) -> None:
    reply = await post(webhook, event(account_id, kind="account.updated"))
    assert reply.status_code == 400
    [error] = reply.json()["errors"]
    assert error["message"].startswith("Invalid payload") and "account id" in error["message"]


async def test_a_payment_intent_event_naming_an_account_is_a_400(
    webhook: httpx.AsyncClient,
) -> None:
    reply = await post(webhook, event("acct_1", kind="payment_intent.succeeded"))
    assert reply.status_code == 400
    assert "PaymentIntent id" in reply.json()["errors"][0]["message"]


# -- several signing secrets: the platform's endpoint and the Connect endpoint ---------------


CONNECT_SECRET = "whsec_unit_test_connect"


def signed_with(secret: str, payload: str) -> dict[str, str]:
    at = int(time.time())
    digest = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return {"stripe-signature": f"t={at},v1={digest}", "content-type": "application/json"}


async def test_an_event_signed_with_any_of_the_secrets_is_taken_and_another_is_refused() -> None:
    settings = GatewaySettings.from_env(
        {
            "PAYMENTS_ADDR": f"127.0.0.1:{free_port()}",
            "STRIPE_WEBHOOK_SECRET": f"{SECRET}, {CONNECT_SECRET}",
        }
    )
    clients = ServiceClients(settings)
    app = Starlette(routes=[stripe_webhook_route(clients, settings.webhook_secret())])
    transport = httpx.ASGITransport(app=app)
    account = event("acct_1", kind="account.updated")
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        platform = await client.post(PATH, content=event(), headers=signed_with(SECRET, event()))
        connect = await client.post(
            PATH, content=account, headers=signed_with(CONNECT_SECRET, account)
        )
        other = await client.post(
            PATH, content=account, headers=signed_with("whsec_someone_else", account)
        )
    await clients.close()
    assert (platform.status_code, connect.status_code) == (503, 503)  # on to payments (down)
    assert other.status_code == 400
    assert other.json()["errors"][0]["message"] == "Invalid Stripe signature"


def test_every_one_of_several_secrets_must_be_a_signing_secret() -> None:
    with pytest.raises(ConfigError) as refused:
        GatewaySettings.from_env({"STRIPE_WEBHOOK_SECRET": f"{SECRET},sk_test_oops"})
    assert "STRIPE_WEBHOOK_SECRET" in str(refused.value)
    assert "sk_test_oops" not in str(refused.value)  # a secret is never shown


# -- charge.dispute.*: a dispute of a payment (SyncDispute) ------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    ],
)
async def test_a_dispute_event_reaches_payments(webhook: httpx.AsyncClient, kind: str) -> None:
    # The sentinel again: payments is down, so a forwarded event is a 503 (Stripe retries).
    reply = await post(webhook, event("du_1Abc", kind))
    assert reply.status_code == 503
    assert reply.json()["errors"][0]["code"] == "UNAVAILABLE"


@pytest.mark.parametrize(
    "dispute_id", [None, 7, "", "pi_123", "du_../../v1/charges", "du_" + "A" * 300]
)
async def test_a_dispute_event_without_a_well_formed_dispute_id_is_a_400(
    webhook: httpx.AsyncClient, dispute_id: object
) -> None:
    reply = await post(webhook, event(dispute_id, "charge.dispute.created"))
    assert reply.status_code == 400
    [error] = reply.json()["errors"]
    assert error["message"].startswith("Invalid payload") and error["code"] == "BAD_USER_INPUT"
