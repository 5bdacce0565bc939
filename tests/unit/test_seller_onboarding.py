"""A seller's onboarding to Stripe Connect, in the payments service layer over fakes: one account
per seller whatever is retried, a fresh link each time pointing back at the seller page, and the
account.updated sync that reads Stripe itself."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import pytest

from common.clock import FrozenClock
from common.errors import Conflict, InvalidInput, Unavailable
from svc_payments.domain.seller_accounts import (
    ConnectedAccount,
    SellerAccount,
    SellerStatus,
    status_of,
)
from svc_payments.service_layer.seller_onboarding import (
    OnboardingPages,
    SellerOnboarding,
    StartSellerOnboarding,
    account_key,
)
from tests.unit.fakes_payments import FakeDatabase, FakeStripe, uow_factory

SELLER = "seller-1"
PAGE = "https://tickets.example/payouts"


class World:
    def __init__(self) -> None:
        self.db = FakeDatabase()
        self.stripe = FakeStripe()
        self.released: list[str] = []

        async def when_payable(uow, seller: SellerAccount) -> None:
            self.released.append(seller.user_id)

        self.onboarding = SellerOnboarding(
            uow_factory(self.db),
            self.stripe,
            FrozenClock(),
            OnboardingPages(PAGE, "GB"),
            when_payable=when_payable,
        )

    async def start(self, user: str = SELLER, path: str = "", email: str = "s@example.com"):
        return await self.onboarding.start(StartSellerOnboarding(user, email, path))


@pytest.fixture
def world() -> World:
    return World()


async def test_a_first_start_opens_one_express_account_and_answers_its_onboarding_link(world):
    started = await world.start()

    [request] = world.stripe.account_requests
    assert (request.user_id, request.email, request.country) == (SELLER, "s@example.com", "GB")
    assert request.idempotency_key == account_key(SELLER)
    stored = world.db.seller_accounts[SELLER]
    assert stored.stripe_account_id == started.seller.stripe_account_id
    assert stored.requirements_due == ("external_account", "tos_acceptance.date")
    assert status_of(stored) is SellerStatus.PENDING
    [(account, refresh_url, return_url)] = world.stripe.links
    assert account == stored.stripe_account_id
    assert started.url.endswith(f"/setup/{account}/1")
    assert refresh_url == f"{PAGE}?onboarding=refresh"
    assert return_url == f"{PAGE}?onboarding=return"


async def test_starting_again_opens_no_second_account_and_makes_a_fresh_link(world):
    first = await world.start()
    again = await world.start()

    assert len(world.stripe.accounts) == 1
    assert len(world.stripe.account_requests) == 1  # the stored account is used, not asked for
    assert again.seller.stripe_account_id == first.seller.stripe_account_id
    assert again.url != first.url


async def test_a_retry_after_a_lost_reply_gets_the_account_the_first_call_opened(world):
    world.stripe.account_outcome = "lost_reply"
    with pytest.raises(Unavailable):
        await world.start()
    assert world.db.seller_accounts == {}  # nothing stored: the answer never came

    world.stripe.account_outcome = "ok"
    started = await world.start()

    assert len(world.stripe.accounts) == 1
    assert world.db.seller_accounts[SELLER].stripe_account_id == started.seller.stripe_account_id


async def test_two_starts_at_once_store_one_account(world):
    first, second = await asyncio.gather(world.start(), world.start())

    assert len(world.stripe.accounts) == 1
    assert first.seller.stripe_account_id == second.seller.stripe_account_id
    assert list(world.db.seller_accounts) == [SELLER]


async def test_stripe_unreachable_is_unavailable_and_stores_nothing(world):
    world.stripe.account_outcome = "unreachable"
    with pytest.raises(Unavailable):
        await world.start()
    assert world.db.seller_accounts == {} and world.stripe.accounts == {}


async def test_an_earlier_unstored_attempt_with_another_email_is_a_conflict(world):
    world.stripe.account_outcome = "lost_reply"
    with pytest.raises(Unavailable):
        await world.start(email="old@example.com")
    world.stripe.account_outcome = "ok"
    with pytest.raises(Conflict):
        await world.start(email="new@example.com")
    assert world.db.seller_accounts == {}


async def test_a_return_path_of_the_site_replaces_the_pages_path(world):
    await world.start(path="/events/e1/sell")
    [(_, refresh_url, return_url)] = world.stripe.links
    assert urlsplit(return_url)[:3] == ("https", "tickets.example", "/events/e1/sell")
    assert parse_qs(urlsplit(refresh_url).query) == {"onboarding": ["refresh"]}


@pytest.mark.parametrize(
    "path",
    ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "payouts", "/" + "a" * 200],
)
async def test_a_return_path_off_the_site_is_bad_input_before_stripe_is_asked(world, path):
    with pytest.raises(InvalidInput) as refused:
        await world.start(path=path)
    assert refused.value.field == "returnPath"
    assert world.stripe.account_requests == [] and world.stripe.links == []


async def test_a_seller_who_never_started_is_not_onboarded(world):
    assert status_of(await world.onboarding.get(SELLER)) is SellerStatus.NOT_ONBOARDED


async def test_sync_after_onboarding_makes_the_seller_payable_once(world):
    started = await world.start()
    account_id = started.seller.stripe_account_id
    world.stripe.complete_onboarding(account_id)

    synced = await world.onboarding.sync(account_id)
    assert synced is not None and status_of(synced) is SellerStatus.PAYABLE
    stored = world.db.seller_accounts[SELLER]
    assert stored.payouts_enabled and stored.requirements_due == () and stored.version == 1
    assert world.released == [SELLER]

    commits = world.db.commits
    again = await world.onboarding.sync(account_id)  # the webhook delivered again
    assert again is not None and status_of(again) is SellerStatus.PAYABLE
    assert world.db.commits == commits and world.released == [SELLER]
    assert world.db.seller_accounts[SELLER].version == 1


async def test_sync_reads_stripe_and_a_restriction_shows(world):
    started = await world.start()
    account_id = started.seller.stripe_account_id
    world.stripe.accounts[account_id] = ConnectedAccount(
        id=account_id,
        payouts_enabled=False,
        details_submitted=True,
        disabled_reason="rejected.fraud",
    )
    synced = await world.onboarding.sync(account_id)
    assert synced is not None and status_of(synced) is SellerStatus.RESTRICTED
    assert world.db.seller_accounts[SELLER].disabled_reason == "rejected.fraud"
    assert world.released == []


async def test_sync_of_an_account_no_seller_holds_changes_nothing_and_asks_stripe_nothing(world):
    await world.start()
    commits = world.db.commits
    assert await world.onboarding.sync("acct_someone_elses") is None
    assert world.db.commits == commits
    assert world.stripe.account_reads == []


async def test_sync_while_stripe_is_unreachable_is_unavailable_so_the_webhook_retries(world):
    started = await world.start()
    world.stripe.complete_onboarding(started.seller.stripe_account_id)
    world.stripe.account_outcome = "unreachable"
    with pytest.raises(Unavailable):
        await world.onboarding.sync(started.seller.stripe_account_id)
    assert not world.db.seller_accounts[SELLER].payouts_enabled


@pytest.mark.parametrize("account_id", ["", "pi_123", "acct_", "acct_x;drop"])
async def test_sync_of_something_that_is_not_an_account_id_is_bad_input(world, account_id):
    with pytest.raises(InvalidInput):
        await world.onboarding.sync(account_id)
    assert world.stripe.account_reads == []


@pytest.mark.parametrize(
    ("payouts", "reason", "status"),
    [
        (True, "", SellerStatus.PAYABLE),
        (False, "requirements.past_due", SellerStatus.PENDING),
        (False, "requirements.pending_verification", SellerStatus.PENDING),
        (False, "", SellerStatus.PENDING),
        (False, "rejected.terms_of_service", SellerStatus.RESTRICTED),
        (False, "under_review", SellerStatus.RESTRICTED),
    ],
)
def test_where_a_seller_stands(payouts, reason, status):
    seller = SellerAccount(
        id=SELLER,
        stripe_account_id="acct_1",
        created_at=FrozenClock().now(),
        payouts_enabled=payouts,
        disabled_reason=reason,
    )
    assert status_of(seller) is status
