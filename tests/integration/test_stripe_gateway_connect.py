"""The payments service's Stripe adapter (StripeApi) for Connect, over the Stripe stand-in
(stripe_standin/) in this event loop: an Express account opened once per idempotency key, its
onboarding link, read back as the domain keeps it; and the failures mapped as the charge path
maps them (Stripe unreachable or refusing our key: StripeUnavailable; an unknown account: None;
a key reused with other details: IdempotencyMismatch)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn

from stripe_standin.app import StripeStandIn
from svc_payments.adapters.stripe_gateway import StripeApi
from svc_payments.service_layer.ports import (
    IdempotencyMismatch,
    NewConnectedAccount,
    StripeUnavailable,
)
from tests.support import servers

pytestmark = pytest.mark.integration


@pytest.fixture
async def standin() -> AsyncIterator[tuple[StripeStandIn, str]]:
    """The stand-in on a free port of this event loop, and its base URL."""
    fake = StripeStandIn()
    port = servers.free_port()
    server = uvicorn.Server(
        uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(250):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started, "the stand-in did not start"
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


def new_account(user_id: str = "seller-1", email: str = "s@example.com") -> NewConnectedAccount:
    return NewConnectedAccount(user_id, email, "US", f"seller-account-{user_id}")


async def test_an_account_is_opened_once_per_key_and_read_back(standin):
    fake, base = standin
    api = StripeApi("sk_test_connect", base, timeout=5)
    account = await api.create_account(new_account())
    assert account.id.startswith("acct_")
    assert not account.payouts_enabled and not account.details_submitted
    assert "external_account" in account.requirements_due
    assert account.disabled_reason == "requirements.past_due"
    stored = fake.connect.accounts[account.id]
    assert (stored["type"], stored["email"], stored["metadata"]) == (
        "express",
        "s@example.com",
        {"user_id": "seller-1"},
    )

    assert await api.create_account(new_account()) == account  # replayed: no second account
    assert list(fake.connect.accounts) == [account.id]
    with pytest.raises(IdempotencyMismatch):
        await api.create_account(new_account(email="other@example.com"))

    url = await api.create_account_link(account.id, "http://web/p?x=refresh", "http://web/p")
    prefix = f"{base}/_standin/onboarding/"
    assert url.startswith(prefix)
    assert fake.connect.links[url.removeprefix(prefix)]["account"] == account.id
    fake.connect.complete_onboarding(account.id)
    onboarded = await api.retrieve_account(account.id)
    assert onboarded is not None
    assert (onboarded.payouts_enabled, onboarded.requirements_due, onboarded.disabled_reason) == (
        True,
        (),
        "",
    )


async def test_an_unknown_account_reads_as_none(standin):
    _, base = standin
    assert await StripeApi("sk_test_connect", base).retrieve_account("acct_unknown") is None


async def test_a_refused_key_is_stripe_unavailable(standin):
    _, base = standin
    api = StripeApi("rk_test_not_accepted_here", base, timeout=5)
    with pytest.raises(StripeUnavailable):
        await api.create_account(new_account())
    with pytest.raises(StripeUnavailable):
        await api.retrieve_account("acct_unknown")


async def test_stripe_unreachable_is_stripe_unavailable():
    api = StripeApi("sk_test_connect", f"http://127.0.0.1:{servers.free_port()}", timeout=2)
    with pytest.raises(StripeUnavailable):
        await api.create_account(new_account())
    with pytest.raises(StripeUnavailable):
        await api.create_account_link("acct_1", "http://web/p", "http://web/p")
    with pytest.raises(StripeUnavailable):
        await api.retrieve_account("acct_1")
