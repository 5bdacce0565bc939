"""The sign-in and sign-up limits per client address, applied by `gateway.accounts.Accounts`,
which the REST routes and the GraphQL mutations both call: the two paths are limited alike, and
share their counts.

- Sign-in per client address: every attempt counts, successful or not (one address trying many
  accounts, or one attacker with an account of their own to reset things with).
- Sign-up per client address: every attempt.

Sign-ins per account and per known device are auth's to count, so that they hold when SignIn is
called without the gateway too (svc_auth/service_layer/signin_throttle.py); the client address
is the gateway's alone to know.

They fail closed: without Redis, sign-in and sign-up answer UNAVAILABLE. The limits are what
stops online password guessing; hashing is bounded in auth, but that bounds its rate, not its
total, and a gateway whose Redis is down is not ready anyway (/readyz), and cannot check the
tokens these would issue.
"""

from __future__ import annotations

from common.rate_limiter import Counting, Limit, Limiter, OnOutage
from gateway.config import GatewaySettings
from gateway.rate_limits.client_address import address_key


class AccountLimits:
    def __init__(self, limiter: Limiter, settings: GatewaySettings) -> None:
        self.limiter = limiter
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

    async def before_sign_in(self, client_address: str) -> None:
        await self.limiter.hit(self.signin_address, address_key(client_address))

    async def before_sign_up(self, client_address: str) -> None:
        await self.limiter.hit(self.signup_address, address_key(client_address))
