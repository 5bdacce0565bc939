"""The sign-in and sign-up limits, applied by `gateway.accounts.Accounts`, which the REST routes
and the GraphQL mutations both call: the two paths are limited alike, and share their counts.

- Sign-in per client address: every attempt counts, successful or not (one address trying many
  accounts, or one attacker with an account of their own to reset things with).
- Sign-in per account (the email, normalised as auth does, kept as a hash): every attempt takes
  a place before auth is asked, so once the limit is reached the right password is refused too
  until the oldest attempt leaves the window; a successful sign-in clears the count, so only
  failures since the last success add up. (Counting before asking, not after failing, keeps the
  limit exact when many attempts race.)
- Sign-up per client address: every attempt.

They fail closed: without Redis, sign-in and sign-up answer UNAVAILABLE. The limits are what
stops online password guessing; hashing is bounded in auth, but that bounds its rate, not its
total, and a gateway whose Redis is down is not ready anyway (/readyz), and cannot check the
tokens these would issue.
"""

from __future__ import annotations

import hashlib

from gateway.config import GatewaySettings
from gateway.rate_limits.client_address import address_key
from gateway.rate_limits.limiter import Counting, Limit, Limiter, OnOutage


def account_key(email: str) -> str:
    # Normalised as auth does (svc_auth.domain.model.normalise_email), so "Ann@X.com " and
    # "ann@x.com" are one account; hashed, so keys have a bounded length and hold no email.
    # surrogatepass: a lone surrogate (valid JSON, not valid UTF-8) is auth's to refuse.
    normalised = email.strip().lower().encode("utf-8", "surrogatepass")
    return hashlib.sha256(normalised).hexdigest()[:32]


class AccountLimits:
    def __init__(self, limiter: Limiter, settings: GatewaySettings) -> None:
        self.limiter = limiter
        self.signin_account = Limit(
            "signin-account",
            settings.signin_account_limit,
            settings.signin_account_window_seconds,
            Counting.EXACT,
            OnOutage.REFUSE,
            "Too many sign-in attempts for this account.",
        )
        self.signin_address = Limit(
            "signin-address",
            settings.signin_address_limit,
            settings.signin_address_window_seconds,
            Counting.EXACT,
            OnOutage.REFUSE,
            "Too many sign-in attempts from this address.",
        )
        self.signup_address = Limit(
            "signup-address",
            settings.signup_address_limit,
            settings.signup_address_window_seconds,
            Counting.EXACT,
            OnOutage.REFUSE,
            "Too many sign-ups from this address.",
        )

    async def before_sign_in(self, email: str, client_address: str) -> None:
        await self.limiter.hit(self.signin_address, address_key(client_address))
        await self.limiter.hit(self.signin_account, account_key(email))

    async def signed_in(self, email: str) -> None:
        await self.limiter.clear(self.signin_account, account_key(email))

    async def before_sign_up(self, client_address: str) -> None:
        await self.limiter.hit(self.signup_address, address_key(client_address))
