"""A seller's onboarding to Stripe Connect: StartSellerOnboarding, GetSellerAccount and
SyncSellerAccount.

- Start opens the seller's Express account at Stripe once: the call carries the seller's own
  idempotency key, so a retry after a lost answer (or a crash before the account was stored)
  gets the account the first call opened, never a second one; two starts at once store one
  (the seller's document is keyed by their user id). Each start answers a fresh account link:
  a link expires within minutes, so it is made for the seller about to follow it and never kept.
- Sync is the `account.updated` webhook's: the account is read from Stripe (the webhook's body
  is trusted for nothing but which account to read) and its seller's record refreshed. Stripe
  is the authority; a sync repeated, or of an account no seller of ours holds, changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from common.clock import Clock, stored_precision
from common.errors import Conflict, InvalidInput, Unavailable
from common.retries import retry_transient
from svc_payments.domain.seller_accounts import ConnectedAccount, Refreshed, SellerAccount
from svc_payments.service_layer.ports import (
    IdempotencyMismatch,
    NewConnectedAccount,
    StripeGateway,
    StripeUnavailable,
)
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

log = logging.getLogger(__name__)

# A connected account id as Stripe makes them (object ids are at most 255 characters).
ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9_]{1,250}")
# A path of the web app: one "/", then what a path holds (no "//host", no scheme, no "\\").
RETURN_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,199}")

# Run in the transaction that refreshed a seller who became payable (the payouts waiting for
# them are released there); none by default.
WhenPayable = Callable[[PaymentsUnitOfWork, SellerAccount], Awaitable[None]]


def account_key(user_id: str) -> str:
    """The seller's one Stripe idempotency key for opening their account."""
    return f"seller-account-{user_id}"


@dataclass(frozen=True)
class StartSellerOnboarding:
    user_id: str
    email: str  # the caller's, from their token: Stripe fills it in on its onboarding form
    return_path: str = ""


@dataclass(frozen=True)
class Onboarding:
    seller: SellerAccount
    url: str  # Stripe's hosted onboarding page, to follow at once


@dataclass(frozen=True)
class OnboardingPages:
    """Where Stripe sends the seller: back to the web app's seller page (`page`, a URL), or
    another path of the same site when the seller's request names one."""

    page: str
    country: str  # of the accounts opened

    def urls(self, return_path: str) -> tuple[str, str]:
        """(refresh_url, return_url)."""
        base = urlsplit(self.page)
        path = return_path or base.path or "/"

        def at(step: str) -> str:
            return urlunsplit((base.scheme, base.netloc, path, urlencode({"onboarding": step}), ""))

        return at("refresh"), at("return")


class SellerOnboarding:
    def __init__(
        self,
        uow: Callable[[], PaymentsUnitOfWork],
        stripe: StripeGateway,
        clock: Clock,
        pages: OnboardingPages,
        when_payable: WhenPayable | None = None,
    ) -> None:
        self.uow = uow
        self.stripe = stripe
        self.clock = clock
        self.pages = pages
        self.when_payable = when_payable

    def _now(self) -> datetime:
        return stored_precision(self.clock.now())  # as MongoDB keeps it (milliseconds)

    # -- StartSellerOnboarding ------------------------------------------------------------------

    async def start(self, cmd: StartSellerOnboarding) -> Onboarding:
        if cmd.return_path and not RETURN_PATH.fullmatch(cmd.return_path):
            raise InvalidInput(
                "returnPath must be a path of this site, starting with one /, at most 200"
                " characters",
                field="returnPath",
            )
        refresh_url, return_url = self.pages.urls(cmd.return_path)
        seller = await self.get(cmd.user_id)
        try:
            if seller is None:
                account = await self.stripe.create_account(
                    NewConnectedAccount(
                        user_id=cmd.user_id,
                        email=cmd.email,
                        country=self.pages.country,
                        idempotency_key=account_key(cmd.user_id),
                    )
                )
                seller = await self._store(cmd.user_id, account)
            url = await self.stripe.create_account_link(
                seller.stripe_account_id, refresh_url, return_url
            )
        except StripeUnavailable as exc:
            raise Unavailable(exc.message) from None
        except IdempotencyMismatch:
            # The first attempt (its account not stored) sent other details: the email changed
            # since. Stripe keeps a key a day; until then the first account is the seller's.
            raise Conflict(
                "An earlier attempt to open your payout account with other details has not"
                " finished; try again later"
            ) from None
        return Onboarding(seller, url)

    @retry_transient()
    async def _store(self, user_id: str, account: ConnectedAccount) -> SellerAccount:
        """The seller's account as stored: this one, or the one a start at the same time stored
        first (the same account: both asked Stripe with the seller's key)."""
        async with self.uow() as uow:
            stored = await uow.seller_accounts.get(user_id)
            if stored is not None:
                if stored.stripe_account_id != account.id:
                    log.error(
                        "a second Stripe account was opened for a seller",
                        extra={"user_id": user_id, "stripe_account_id": account.id},
                    )
                return stored
            seller = SellerAccount.opened(user_id, account, self._now())
            await uow.seller_accounts.add(seller)
            await uow.commit()
            log.info(
                "seller account stored",
                extra={"user_id": user_id, "stripe_account_id": account.id},
            )
            return seller

    # -- GetSellerAccount -----------------------------------------------------------------------

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def get(self, user_id: str) -> SellerAccount | None:
        """None: the seller has not started onboarding."""
        async with self.uow() as uow:
            return await uow.seller_accounts.get(user_id)

    # -- SyncSellerAccount (the account.updated webhook) ----------------------------------------

    async def sync(self, stripe_account_id: str) -> SellerAccount | None:
        """The seller's account refreshed from Stripe; None when no seller holds it."""
        if not stripe_account_id:
            raise InvalidInput("stripeAccountId is required", field="stripeAccountId")
        if not ACCOUNT_ID.fullmatch(stripe_account_id):
            raise InvalidInput(
                "stripeAccountId is not a connected account id", field="stripeAccountId"
            )
        async with self.uow() as uow:
            known = await uow.seller_accounts.by_stripe_account(stripe_account_id)
        if known is None:
            log.info("account.updated for an account no seller holds", extra=_of(stripe_account_id))
            return None
        try:
            account = await self.stripe.retrieve_account(stripe_account_id)
        except StripeUnavailable as exc:
            raise Unavailable(exc.message) from None
        if account is None:
            log.warning("a seller's account is unknown to Stripe", extra=_of(stripe_account_id))
            return known
        return await self._refresh(account)

    @retry_transient()
    async def _refresh(self, account: ConnectedAccount) -> SellerAccount | None:
        async with self.uow() as uow:
            seller = await uow.seller_accounts.by_stripe_account(account.id)
            if seller is None:
                return None
            refreshed: Refreshed = seller.refresh(account)
            if not refreshed.changed:
                return seller
            await uow.seller_accounts.save(seller)
            if refreshed.became_payable and self.when_payable is not None:
                await self.when_payable(uow, seller)
            await uow.commit()
        log.info(
            "seller account refreshed",
            extra={
                **_of(account.id),
                "user_id": seller.user_id,
                "payouts_enabled": seller.payouts_enabled,
                "became_payable": refreshed.became_payable,
            },
        )
        return seller


def _of(stripe_account_id: str) -> dict[str, str]:
    return {"stripe_account_id": stripe_account_id}
