"""A seller's onboarding through the payments service over real gRPC with SecantusDB, against
the Stripe stand-in (stripe_standin/) through the official SDK: the Express account opened once
whatever is retried, its onboarding link, and the account.updated webhook (through the gateway's
route, signed by us) that makes the seller payable once Stripe says so."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import grpc
import httpx
import pytest

from common.errors import ErrorCode
from tests.integration.test_payments_service import (
    WEBHOOK_SECRET,
    Payments,
    error_of,
    running_payments,
    signed,
    webhook_app,
)
from tests.support import stripe_standin
from ticketing.payments.v1 import payments_pb2

pytestmark = pytest.mark.integration

PAGE = "http://127.0.0.1:8000/payouts"
Status = payments_pb2.SellerAccountStatus


@pytest.fixture(scope="module")
def standin() -> Iterator[str]:
    with stripe_standin.running() as url:
        yield url


@pytest.fixture
async def payments(env, standin) -> AsyncIterator[Payments]:
    async with running_payments(env, standin, SELLER_ONBOARDING_URL=PAGE) as running:
        yield running


@pytest.fixture
async def webhook(env, payments) -> AsyncIterator[httpx.AsyncClient]:
    app, clients = webhook_app(env, payments.port, WEBHOOK_SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client
    await clients.close()


async def start(payments: Payments, seller: str, path: str = ""):
    return await payments.stub.StartSellerOnboarding(
        payments_pb2.StartSellerOnboardingRequest(return_path=path),
        metadata=payments.as_user(seller),
    )


async def standing(payments: Payments, seller: str) -> payments_pb2.SellerAccount:
    reply = await payments.stub.GetSellerAccount(
        payments_pb2.GetSellerAccountRequest(), metadata=payments.as_user(seller)
    )
    return reply.seller_account


async def stored_account(payments: Payments, seller: str) -> str:
    doc = await payments.db.seller_accounts.find_one({"_id": seller})
    assert doc is not None
    return doc["stripe_account_id"]


def account_updated(account_id: str, **claims) -> str:
    """An account.updated event; whatever its body claims is not believed."""
    obj = {"id": account_id, "object": "account", **claims}
    return json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex[:14]}",
            "object": "event",
            "type": "account.updated",
            "data": {"object": obj},
        }
    )


async def test_a_seller_is_not_onboarded_until_they_start(payments):
    seller = str(uuid.uuid4())
    account = await standing(payments, seller)
    assert (account.user_id, account.status) == (seller, Status.SELLER_ACCOUNT_STATUS_NOT_ONBOARDED)
    assert not account.payouts_enabled


async def test_onboarding_opens_an_express_account_at_stripe_and_answers_its_link(
    payments, standin
):
    seller = str(uuid.uuid4())
    reply = await start(payments, seller, "/events/e1/sell")

    assert reply.seller_account.status == Status.SELLER_ACCOUNT_STATUS_PENDING
    assert "external_account" in reply.seller_account.requirements_due
    account_id = await stored_account(payments, seller)
    # The stand-in's hosted onboarding, behind a link good once (its token names the account).
    assert reply.onboarding_url.startswith(f"{standin}/_standin/onboarding/")
    # What Stripe holds: an Express account of this seller, as the SDK sent it.
    account = payments.stripe.v1.accounts.retrieve(account_id)
    assert account.type == "express"
    assert account.metadata.to_dict() == {"user_id": seller}
    assert account.email == f"{seller[:8]}@example.com"
    assert (await standing(payments, seller)).status == Status.SELLER_ACCOUNT_STATUS_PENDING


async def test_a_retried_start_opens_one_account(payments, standin):
    seller = str(uuid.uuid4())
    first = await start(payments, seller)
    account_id = await stored_account(payments, seller)
    # The first call's answer lost after Stripe opened the account: the stored record is gone
    # too (as if the service stopped before storing it); the retry asks Stripe again, with the
    # seller's key, and gets the same account.
    await payments.db.seller_accounts.delete_one({"_id": seller})
    again = await start(payments, seller)

    assert await stored_account(payments, seller) == account_id
    # A fresh link (each is good once) to the same account.
    assert again.onboarding_url != first.onboarding_url
    # A second account would have another id; Stripe (the stand-in) replayed the first.
    assert again.seller_account.user_id == seller


async def test_the_webhook_after_onboarding_makes_the_seller_payable(payments, standin, webhook):
    seller = str(uuid.uuid4())
    await start(payments, seller)
    account_id = await stored_account(payments, seller)
    async with httpx.AsyncClient() as client:
        done = await client.post(f"{standin}/_standin/accounts/{account_id}/complete_onboarding")
        done.raise_for_status()

    body = account_updated(account_id)
    reply = await webhook.post("/webhooks/stripe", content=body, headers=signed(body))
    assert (reply.status_code, reply.json()) == (200, {"received": True})
    account = await standing(payments, seller)
    assert account.status == Status.SELLER_ACCOUNT_STATUS_PAYABLE
    assert account.payouts_enabled and list(account.requirements_due) == []

    # Delivered again: nothing changes.
    version = (await payments.db.seller_accounts.find_one({"_id": seller}))["version"]
    again = await webhook.post("/webhooks/stripe", content=body, headers=signed(body))
    assert again.status_code == 200
    assert (await payments.db.seller_accounts.find_one({"_id": seller}))["version"] == version


async def test_the_webhooks_body_is_not_believed(payments, webhook):
    seller = str(uuid.uuid4())
    await start(payments, seller)
    account_id = await stored_account(payments, seller)
    body = account_updated(account_id, payouts_enabled=True, details_submitted=True)
    reply = await webhook.post("/webhooks/stripe", content=body, headers=signed(body))
    assert reply.status_code == 200
    assert (await standing(payments, seller)).status == Status.SELLER_ACCOUNT_STATUS_PENDING


async def test_an_account_no_seller_holds_changes_nothing(payments, webhook):
    before = await payments.db.seller_accounts.count_documents({})
    reply = await payments.stub.SyncSellerAccount(
        payments_pb2.SyncSellerAccountRequest(stripe_account_id="acct_not_ours_at_all")
    )
    assert not reply.HasField("seller_account")
    body = account_updated("acct_not_ours_either")
    hook = await webhook.post("/webhooks/stripe", content=body, headers=signed(body))
    assert (hook.status_code, hook.json()) == (200, {"received": True})
    assert await payments.db.seller_accounts.count_documents({}) == before


async def test_a_return_path_off_the_site_is_invalid(payments):
    code, error = await error_of(start(payments, str(uuid.uuid4()), "//evil.example/x"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.code is ErrorCode.BAD_USER_INPUT and error.field == "returnPath"


async def test_the_return_url_points_at_the_seller_page(payments, standin):
    seller = str(uuid.uuid4())
    reply = await start(payments, seller)
    async with httpx.AsyncClient() as client:
        page = await client.get(reply.onboarding_url)
    assert page.status_code == 200 and "Complete onboarding" in page.text
    async with httpx.AsyncClient() as client:  # the page's form posts to itself
        done = await client.post(reply.onboarding_url, data={"outcome": "complete"})
    assert done.status_code == 303
    back = urlsplit(done.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == PAGE
    assert parse_qs(back.query) == {"onboarding": ["return"]}
