"""A seller's Stripe Connect account: where the seller's proceeds are transferred, and whether
Stripe lets them be paid yet.

Payments holds it (it is the one service that speaks to Stripe); it is keyed by the seller's
user id, one account per seller. Stripe is the authority on the account's state: `refresh`
applies what Stripe reports (read from Stripe on an `account.updated` webhook, never taken from
the webhook's body), and says when the seller became payable, so that the payouts waiting for
it are released in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


@dataclass(frozen=True)
class ConnectedAccount:
    """What Stripe reports about a connected account."""

    id: str  # acct_...
    payouts_enabled: bool
    details_submitted: bool
    # What Stripe still needs from the seller before it pays them (requirements.currently_due
    # and past_due, e.g. "individual.verification.document"), in Stripe's own words.
    requirements_due: tuple[str, ...] = ()
    disabled_reason: str = ""  # requirements.disabled_reason, when Stripe gives one


class SellerStatus(Enum):
    """Where a seller stands, as the app shows them."""

    NOT_ONBOARDED = "NOT_ONBOARDED"  # no Stripe account yet
    PENDING = "PENDING"  # opened; Stripe still needs details or is checking them
    PAYABLE = "PAYABLE"  # Stripe pays out to the account
    RESTRICTED = "RESTRICTED"  # Stripe disabled it for a reason more details do not fix


# Stripe's disabled_reason values that onboarding itself clears: the seller still has details to
# give (requirements.past_due), or Stripe is checking them (requirements.pending_verification).
ONBOARDING_REASONS = "requirements."


def status_of(seller: SellerAccount | None) -> SellerStatus:
    if seller is None:
        return SellerStatus.NOT_ONBOARDED
    if seller.payouts_enabled:
        return SellerStatus.PAYABLE
    if seller.disabled_reason and not seller.disabled_reason.startswith(ONBOARDING_REASONS):
        return SellerStatus.RESTRICTED  # rejected, under review, listed, platform paused, ...
    return SellerStatus.PENDING


@dataclass(frozen=True)
class Refreshed:
    changed: bool  # the account's document must be saved
    became_payable: bool  # payouts enabled now, not before: release what waited for it


@dataclass
class SellerAccount:
    id: str  # the seller's user id
    stripe_account_id: str
    created_at: datetime
    payouts_enabled: bool = False
    details_submitted: bool = False
    requirements_due: tuple[str, ...] = ()
    disabled_reason: str = ""
    version: int = 0
    # No domain events: nothing outside payments acts on a seller's account.
    events: list[object] = field(default_factory=list, repr=False, compare=False)

    @property
    def user_id(self) -> str:
        return self.id

    @classmethod
    def opened(cls, user_id: str, account: ConnectedAccount, now: datetime) -> SellerAccount:
        seller = cls(id=user_id, stripe_account_id=account.id, created_at=now)
        seller.refresh(account)
        seller.version = 0
        return seller

    def refresh(self, account: ConnectedAccount) -> Refreshed:
        """Stripe's current word on the account."""
        if account.id != self.stripe_account_id:
            raise ValueError(f"{account.id} is not the account of seller {self.id}")
        before = (
            self.payouts_enabled,
            self.details_submitted,
            self.requirements_due,
            self.disabled_reason,
        )
        after = (
            account.payouts_enabled,
            account.details_submitted,
            tuple(account.requirements_due),
            account.disabled_reason,
        )
        if before == after:
            return Refreshed(changed=False, became_payable=False)
        became_payable = account.payouts_enabled and not self.payouts_enabled
        (
            self.payouts_enabled,
            self.details_submitted,
            self.requirements_due,
            self.disabled_reason,
        ) = after
        self.version += 1
        return Refreshed(changed=True, became_payable=became_payable)
