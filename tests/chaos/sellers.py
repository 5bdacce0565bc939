"""The chaos sellers' payout set-up, through the real flow: payments' StartSellerOnboarding (the
gateway's `startSellerOnboarding`), the stand-in's hosted onboarding page answered as the seller
would answer it (its form's "complete" button), and the signed `account.updated` webhook that
the stand-in then sends, through the run's `WebhookRetrier`, to the gateway: payments asks
Stripe and the seller is PAYABLE (their waiting payouts released in the same transaction).

Which sellers do it, and when (`Onboarding`): some at once, one mid-run (so that
`release_waiting_payouts` runs under the faults), and some never (their payouts must wait for
onboarding, with no transfer)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum

import httpx

from tests.chaos.load import USER_ERRORS, Client, GaveUp, raw_id

START_ONBOARDING = (
    'mutation { startSellerOnboarding(input: {returnPath: "/payouts"}) '
    f"{{ onboardingUrl sellerAccount {{ status }} {USER_ERRORS} }} }}"
)
WHO = "query { currentUser { id } }"


class Onboarding(StrEnum):
    AT_START = "at start"  # before their first listing
    MID_RUN = "mid-run"  # once `Sellers.mid_run` is set, between two of their flows
    NEVER = "never"  # their payouts wait for onboarding to the end


def onboarding_of(user: int) -> Onboarding:
    """The load's user `user`'s seller: in turn at start, mid-run, never."""
    return (Onboarding.AT_START, Onboarding.MID_RUN, Onboarding.NEVER)[user % 3]


def seller_id(client: Client, token: str) -> str:
    """The seller's user id, as payments keys its seller account and payouts."""
    return raw_id(client.call("currentUser", WHO, token)["data"]["currentUser"]["id"])


def onboard(client: Client, token: str) -> None:
    """The seller sets up payouts: the onboarding link (retried as any call, the same seller
    gets the same Stripe account), then the hosted page's "complete" (the stand-in is never
    killed; it sends `account.updated` to the gateway, retried until accepted)."""
    started = client.call("startSellerOnboarding", START_ONBOARDING, token)
    url = started["data"]["startSellerOnboarding"]["onboardingUrl"]
    done = httpx.post(url, data={"outcome": "complete"}, timeout=30)
    if done.status_code != 303:  # back to the platform's return_url, as Stripe sends them
        raise RuntimeError(f"the stand-in's onboarding page answered {done.status_code}")


@dataclass
class Sellers:
    """Which seller (user id) was meant to onboard when, and when their onboarding page was
    completed (wall clock): what the payout checks judge payments' seller accounts by."""

    mid_run: threading.Event = field(default_factory=threading.Event)
    plans: dict[str, Onboarding] = field(default_factory=dict)
    completed: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set_up(self, client: Client, token: str, plan: Onboarding) -> str:
        """A seller before their first listing: registered with their plan, onboarded now if it
        says so. Returns their user id."""
        seller = seller_id(client, token)
        with self._lock:
            self.plans[seller] = plan
        if plan is Onboarding.AT_START:
            self._onboard(client, token, seller)
        return seller

    def set_up_user(self, client: Client, token: str, user: int) -> str:
        """The load's user `user`'s seller (`onboarding_of` says when they onboard)."""
        return self.set_up(client, token, onboarding_of(user))

    def delivers_everything(self, user: int) -> bool:
        """A mid-run seller delivers every order: their payouts from before the onboarding are
        then paid (released by it), none refunded for a missed delivery, which the run's
        coverage counts on."""
        return onboarding_of(user) is Onboarding.MID_RUN

    def between_flows(self, client: Client, token: str, seller: str) -> None:
        """A mid-run seller onboards once `mid_run` is set (tried again after their next flow
        if the gateway stayed down past the client's budget)."""
        with self._lock:
            due = self.plans.get(seller) is Onboarding.MID_RUN and seller not in self.completed
        if due and self.mid_run.is_set():
            try:
                self._onboard(client, token, seller)
            except GaveUp:
                pass  # its errors are the client's; the next try comes after the next flow

    def _onboard(self, client: Client, token: str, seller: str) -> None:
        onboard(client, token)
        with self._lock:
            self.completed[seller] = time.time()

    def of(self, plan: Onboarding) -> list[str]:
        with self._lock:
            return sorted(s for s, p in self.plans.items() if p is plan)
