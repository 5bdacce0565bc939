"""The ledger's entries balance by construction: an entry that would not is refused."""

from datetime import UTC, datetime

import pytest

from svc_payments.domain import ledger
from svc_payments.domain.ledger import EntryKind, JournalEntry, Posting, UnbalancedEntry

NOW = datetime(2026, 12, 8, tzinfo=UTC)


def test_a_charge_owes_the_seller_their_proceeds_and_keeps_the_rest():
    entry = ledger.charge(
        "ch_1", "order-1", "USD", "seller-1", total=5500, proceeds=4750, created_at=NOW
    )
    assert entry.id == "charge:ch_1"
    assert ledger.balances([entry]) == {
        ("stripe_balance", "USD"): 5500,
        ("seller_payable:seller-1", "USD"): -4750,
        ("platform_fees", "USD"): -750,
    }


def test_a_charge_without_fees_has_no_fee_posting():
    entry = ledger.charge("ch_1", "o", "JPY", "s", total=3000, proceeds=3000, created_at=NOW)
    assert [p.account for p in entry.postings] == ["stripe_balance", "seller_payable:s"]


def test_a_payout_then_its_reversal_leave_the_seller_owed_again():
    charge = ledger.charge("ch_1", "o", "EUR", "s", total=1100, proceeds=950, created_at=NOW)
    paid = JournalEntry.moving(
        EntryKind.TRANSFER,
        "tr_1",
        "o",
        "EUR",
        950,
        debit=ledger.seller_payable("s"),
        credit=ledger.STRIPE_BALANCE,
        created_at=NOW,
    )
    reversed_ = JournalEntry.moving(
        EntryKind.TRANSFER_REVERSAL,
        "trr_1",
        "o",
        "EUR",
        950,
        debit=ledger.STRIPE_BALANCE,
        credit=ledger.seller_payable("s"),
        created_at=NOW,
    )
    assert ledger.balances([charge, paid]) == {
        ("stripe_balance", "EUR"): 150,
        ("platform_fees", "EUR"): -150,
    }
    assert ledger.balances([charge, paid, reversed_])[("seller_payable:s", "EUR")] == -950
    assert sum(ledger.balances([charge, paid, reversed_]).values()) == 0


@pytest.mark.parametrize(
    "postings",
    [
        (Posting("a", 100), Posting("b", -99)),  # does not sum to zero
        (Posting("a", 0), Posting("b", 0)),  # moves nothing
        (Posting("a", 100),),  # one side only
    ],
)
def test_an_entry_that_does_not_balance_is_refused(postings):
    with pytest.raises(UnbalancedEntry):
        JournalEntry(EntryKind.REFUND, "re_1", "o", "USD", postings, NOW)


def test_proceeds_above_the_total_are_refused():
    with pytest.raises(UnbalancedEntry):
        ledger.charge("ch_1", "o", "USD", "s", total=100, proceeds=101, created_at=NOW)


def test_a_refused_charge_is_owed_back_to_the_buyer_until_its_refund_gives_it_back():
    charged, refunded = ledger.refused_charge(
        "ch_2", "re_2", "order-1", "EUR", "buyer-1", 4200, created_at=NOW
    )
    assert (charged.id, refunded.id) == ("charge:ch_2", "refund:re_2")
    assert ledger.balances([charged]) == {
        ("stripe_balance", "EUR"): 4200,
        ("refunds:buyer-1", "EUR"): -4200,
    }
    assert ledger.balances([charged, refunded]) == {}
    # Only the charge of an order's payment owes a seller (what a cancellation gives back).
    sale = ledger.charge("ch_1", "order-1", "EUR", "s", total=4200, proceeds=4000, created_at=NOW)
    assert [ledger.owes_seller(e) for e in (sale, charged, refunded)] == [True, False, False]
