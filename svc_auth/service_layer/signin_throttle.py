"""Sign-in throttling that a stranger cannot turn against the owner (OWASP's "blocking brute
force attacks" with device cookies). Auth is the one authority on it, so it holds whether SignIn
comes through the gateway or straight over gRPC; the gateway adds a limit per client address,
which only it can know.

- From a device the account does not know (no device token, or one that is not a valid token
  of THIS account): every attempt takes a place in the account's count before anything else
  happens (counting before asking keeps the limit exact when attempts race). Past
  SIGNIN_ACCOUNT_LIMIT within SIGNIN_ACCOUNT_WINDOW_SECONDS, such attempts are refused
  (RATE_LIMITED, with when to try again) before the password is looked at: a stranger's flood
  costs auth no hashing, and wins them at most LIMIT guesses per window at this account.
- From a device that signed in to the account before (its device token): the account's count
  is neither checked nor added to; the device has a count of its own (SIGNIN_DEVICE_LIMIT per
  SIGNIN_DEVICE_WINDOW_SECONDS, by its device id), so the owner signs in from their usual
  device at once however hard the account is hammered, and a device token that was stolen and
  abused locks only itself.
- A success clears the count of the device it came from, and nothing else. Not the account's
  count of unknown devices: those are the stranger's attempts, and letting the owner's sign-in
  reset them would give the stranger LIMIT more guesses every time the owner signs in. The
  owner does not need that count anyway: every success gives them a device token. (A success
  from an unknown device therefore counts as an attempt: the owner's first sign-in on a new
  device uses one place of the window.)

Without Redis every attempt is refused (UNAVAILABLE), as the gateway's limits do: unthrottled
guessing is not an option.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from common.rate_limiter import Counting, Limit, OnOutage
from svc_auth.domain.device import Device

ACCOUNT_REFUSAL = "Too many sign-in attempts for this account."
DEVICE_REFUSAL = "Too many sign-in attempts from this device."


class Counter(Protocol):
    """common.rate_limiter.Limiter: `hit` raises RateLimited past the limit (not counted then),
    Unavailable when it cannot count and the limit fails closed."""

    async def hit(self, limit: Limit, key: str) -> None: ...

    async def clear(self, limit: Limit, key: str) -> None: ...


def account_key(normalised_email: str) -> str:
    """Hashed, so keys have a bounded length and hold no email. Of the normalised email (trimmed,
    lower case), so "Ann@X.com " and "ann@x.com" count as one account; an email with no account
    is counted like one with (an answer must not tell them apart)."""
    encoded = normalised_email.encode("utf-8", "surrogatepass")
    return hashlib.sha256(encoded).hexdigest()[:32]


class SignInThrottle:
    def __init__(
        self,
        counter: Counter,
        *,
        account_limit: int,
        account_window_seconds: int,
        device_limit: int,
        device_window_seconds: int,
    ) -> None:
        self.counter = counter
        self.unknown_devices = Limit(
            "signin-account",
            account_limit,
            account_window_seconds,
            Counting.EXACT,
            OnOutage.REFUSE,
            ACCOUNT_REFUSAL,
        )
        self.known_device = Limit(
            "signin-device",
            device_limit,
            device_window_seconds,
            Counting.EXACT,
            OnOutage.REFUSE,
            DEVICE_REFUSAL,
        )

    async def before_attempt(self, normalised_email: str, known: Device | None) -> None:
        """Takes the attempt's place in its count; RateLimited when there is none left.
        `known`: the device, when its token is a valid one of this email's account."""
        if known is None:
            await self.counter.hit(self.unknown_devices, account_key(normalised_email))
        else:
            await self.counter.hit(self.known_device, known.device_id)

    async def succeeded(self, known: Device | None) -> None:
        if known is not None:
            await self.counter.clear(self.known_device, known.device_id)
