"""A seller's Connect account follows what Stripe reports, and says when it became payable."""

from datetime import UTC, datetime

import pytest

from svc_payments.domain.seller_accounts import ConnectedAccount, SellerAccount

NOW = datetime(2026, 12, 8, tzinfo=UTC)
PENDING = ConnectedAccount(
    "acct_1", payouts_enabled=False, details_submitted=False, requirements_due=("external_account",)
)
PAYABLE = ConnectedAccount("acct_1", payouts_enabled=True, details_submitted=True)


def test_an_opened_account_starts_as_stripe_reports_it_at_version_0():
    seller = SellerAccount.opened("user-1", PENDING, NOW)
    assert (seller.user_id, seller.stripe_account_id, seller.version) == ("user-1", "acct_1", 0)
    assert seller.requirements_due == ("external_account",)
    assert not seller.payouts_enabled


def test_becoming_payable_is_reported_once():
    seller = SellerAccount.opened("user-1", PENDING, NOW)
    first = seller.refresh(PAYABLE)
    again = seller.refresh(PAYABLE)
    assert (first.changed, first.became_payable) == (True, True)
    assert (again.changed, again.became_payable) == (False, False)
    assert seller.version == 1 and seller.requirements_due == ()


def test_losing_payouts_changes_the_account_without_releasing_anything():
    seller = SellerAccount.opened("user-1", PAYABLE, NOW)
    refreshed = seller.refresh(PENDING)
    assert (refreshed.changed, refreshed.became_payable) == (True, False)
    assert not seller.payouts_enabled


def test_another_accounts_report_is_refused():
    seller = SellerAccount.opened("user-1", PENDING, NOW)
    with pytest.raises(ValueError):
        seller.refresh(ConnectedAccount("acct_2", True, True))
