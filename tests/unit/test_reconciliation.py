"""Reconciliation's matching (svc_payments/domain/reconciliation.py): every kind of difference,
with both sides' figures; Stripe's signs against the ledger's postings; fees apart; nothing
younger than the grace period judged; a window overlapping the last one judging nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from svc_payments.domain import ledger
from svc_payments.domain.ledger import EntryKind, JournalEntry, Posting
from svc_payments.domain.reconciliation import (
    BalanceTransaction,
    Cursor,
    Difference,
    DifferenceKind,
    ReconciliationPolicy,
    Window,
    entry_id_of,
    next_window,
    reconcile,
    unmatched_entries,
)

T0 = datetime(2026, 12, 8, 12, tzinfo=UTC)
WINDOW = Window(T0, T0 + timedelta(hours=1))
POLICY = ReconciliationPolicy(grace=timedelta(minutes=5), overlap=timedelta(minutes=10))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def txn(
    type_: str,
    source: str,
    amount: int,
    fee: int = 0,
    currency: str = "EUR",
    minutes: float = 1,
    id_: str | None = None,
) -> BalanceTransaction:
    return BalanceTransaction(
        id=id_ or f"txn_{type_}_{source}",
        type=type_,
        source=source,
        amount=amount,
        fee=fee,
        net=amount - fee,
        currency=currency,
        created=at(minutes),
    )


def charge(source="ch_1", total=5500, proceeds=4750, currency="EUR", minutes=1.0) -> JournalEntry:
    return ledger.charge(source, "order-1", currency, "seller-1", total, proceeds, at(minutes))


def moving(kind, source, amount, debit, credit, minutes=1.0, currency="EUR") -> JournalEntry:
    return JournalEntry.moving(
        kind,
        source,
        "order-1",
        currency,
        amount,
        debit=debit,
        credit=credit,
        created_at=at(minutes),
    )


def transfer(source="tr_1", amount=4750, minutes=2.0) -> JournalEntry:
    return moving(
        EntryKind.TRANSFER,
        source,
        amount,
        ledger.seller_payable("seller-1"),
        ledger.STRIPE_BALANCE,
        minutes,
    )


def judge(transactions, entries, by_id=None, already=()):
    by_id = by_id if by_id is not None else {e.id: e for e in entries}
    return reconcile(WINDOW, transactions, entries, by_id, already)


@pytest.mark.parametrize(
    ("type_", "amount", "expected"),
    [
        ("charge", 100, "charge:src"),
        ("payment", 100, "charge:src"),
        ("refund", -100, "refund:src"),
        ("payment_refund", -100, "refund:src"),
        ("transfer", -100, "transfer:src"),
        ("transfer_refund", 100, "transfer_reversal:src"),
        ("transfer_cancel", 100, "transfer_reversal:src"),
        ("transfer_failure", 100, "transfer_reversal:src"),
        ("adjustment", -100, "dispute:src"),
        ("adjustment", 100, "dispute_won:src"),
        ("payout", -100, None),
        ("stripe_fee", -100, None),
        ("refund_failure", 100, None),
    ],
)
def test_each_balance_transaction_type_names_the_entry_that_records_it(type_, amount, expected):
    assert entry_id_of(txn(type_, "src", amount)) == expected


def test_a_charge_and_its_transfer_recorded_as_stripe_moved_them_match():
    report = judge(
        [txn("charge", "ch_1", 5500, fee=190), txn("transfer", "tr_1", -4750, minutes=2)],
        [charge(), transfer()],
    )
    assert (report.matched, report.differences) == (2, ())
    # Stripe's fee on the charge is reported apart, not a difference: the ledger recorded none.
    assert report.stripe_fees == {"EUR": 190}
    assert report.unrecorded_stripe_fees == {"EUR": 190}


def test_stripe_moving_money_no_entry_records_is_missing_in_the_ledger():
    report = judge([txn("charge", "ch_9", 1200, fee=65, currency="USD")], [])
    assert report.differences == (
        Difference(
            DifferenceKind.MISSING_IN_LEDGER,
            "charge:ch_9",
            "ch_9",
            transaction_ids=("txn_charge_ch_9",),
            stripe_amount=1200,
            stripe_fee=65,
            stripe_currency="USD",
        ),
    )
    assert report.matched == 0


def test_an_entry_stripe_never_reported_is_missing_at_stripe():
    report = judge([], [transfer("tr_ghost", 300)])
    assert report.differences == (
        Difference(
            DifferenceKind.MISSING_AT_STRIPE,
            "transfer:tr_ghost",
            "tr_ghost",
            order_id="order-1",
            ledger_amount=-300,
            ledger_fee=0,
            ledger_currency="EUR",
        ),
    )


def test_a_transfer_recorded_with_stripes_sign_flipped_is_an_amount_mismatch():
    # A transfer leaves the balance: -4750 at Stripe. An entry that debits stripe_balance says
    # money came in.
    wrong_way = moving(
        EntryKind.TRANSFER,
        "tr_1",
        4750,
        ledger.STRIPE_BALANCE,
        ledger.seller_payable("seller-1"),
    )
    (difference,) = judge([txn("transfer", "tr_1", -4750)], [wrong_way]).differences
    assert difference.kind is DifferenceKind.AMOUNT_MISMATCH
    assert (difference.stripe_amount, difference.ledger_amount) == (-4750, 4750)


def test_amounts_that_differ_are_reported_with_both_figures():
    (difference,) = judge([txn("charge", "ch_1", 5400)], [charge(total=5500)]).differences
    assert difference == Difference(
        DifferenceKind.AMOUNT_MISMATCH,
        "charge:ch_1",
        "ch_1",
        order_id="order-1",
        transaction_ids=("txn_charge_ch_1",),
        stripe_amount=5400,
        stripe_fee=0,
        stripe_currency="EUR",
        ledger_amount=5500,
        ledger_fee=0,
        ledger_currency="EUR",
    )


def test_the_same_amount_in_another_currency_is_a_currency_mismatch():
    (difference,) = judge(
        [txn("charge", "ch_1", 5500, currency="USD")], [charge(currency="EUR")]
    ).differences
    assert difference.kind is DifferenceKind.CURRENCY_MISMATCH
    assert (difference.stripe_currency, difference.ledger_currency) == ("USD", "EUR")
    assert (difference.stripe_amount, difference.ledger_amount) == (5500, 5500)


def test_refunds_reversals_and_disputes_match_with_stripes_signs():
    seller = ledger.seller_payable("seller-1")
    refund = moving(EntryKind.REFUND, "re_1", 1000, ledger.refunds("buyer"), ledger.STRIPE_BALANCE)
    reversal = moving(EntryKind.TRANSFER_REVERSAL, "trr_1", 950, ledger.STRIPE_BALANCE, seller)
    # A dispute takes the disputed amount and Stripe's dispute fee out of the balance; this
    # entry records the fee, so it is compared too.
    dispute = JournalEntry(
        EntryKind.DISPUTE,
        "du_1",
        "order-1",
        "EUR",
        (
            Posting(ledger.DISPUTE_HOLD, 5500),
            Posting(ledger.STRIPE_FEES, 1500),
            Posting(ledger.STRIPE_BALANCE, -7000),
        ),
        at(3),
    )
    won = moving(EntryKind.DISPUTE_WON, "du_1", 5500, ledger.STRIPE_BALANCE, ledger.DISPUTE_HOLD)
    report = judge(
        [
            txn("refund", "re_1", -1000),
            txn("transfer_refund", "trr_1", 950),
            txn("adjustment", "du_1", -5500, fee=1500, id_="txn_d1"),
            txn("adjustment", "du_1", 5500, id_="txn_d2"),
        ],
        [refund, reversal, dispute, won],
    )
    assert (report.matched, report.differences) == (4, ())
    assert report.stripe_fees == {"EUR": 1500}
    assert report.unrecorded_stripe_fees == {}  # the dispute's entry recorded it


def test_a_fee_the_ledger_recorded_must_be_the_fee_stripe_took():
    dispute = JournalEntry(
        EntryKind.DISPUTE,
        "du_1",
        "order-1",
        "EUR",
        (
            Posting(ledger.DISPUTE_HOLD, 5500),
            Posting(ledger.STRIPE_FEES, 1000),
            Posting(ledger.STRIPE_BALANCE, -6500),
        ),
        at(3),
    )
    (difference,) = judge([txn("adjustment", "du_1", -5500, fee=1500)], [dispute]).differences
    assert difference.kind is DifferenceKind.FEE_MISMATCH
    assert (difference.stripe_fee, difference.ledger_fee) == (1500, 1000)
    assert (difference.stripe_amount, difference.ledger_amount) == (-5500, -5500)


def test_payouts_and_stripes_own_fees_are_counted_not_compared():
    report = judge(
        [
            txn("payout", "po_1", -10000),
            txn("stripe_fee", "sf_1", -200, currency="USD"),
            txn("tax_fee", "tf_1", -50, currency="USD"),
        ],
        [],
    )
    assert report.differences == ()
    assert report.not_compared == {"payout": 1}
    assert report.stripe_fees == report.unrecorded_stripe_fees == {"USD": 250}


def test_an_entry_that_moves_nothing_at_stripe_has_nothing_to_match():
    internal = moving(
        EntryKind.DISPUTE_WON,
        "du_7",
        100,
        ledger.seller_payable("seller-1"),
        ledger.DISPUTE_HOLD,
    )
    report = judge([], [internal])
    assert (report.differences, report.internal_entries) == ((), 1)


def test_an_entry_matched_by_a_balance_transaction_after_the_window_is_not_missing():
    late = txn("transfer", "tr_1", -4750, minutes=61)  # after WINDOW's end
    report = judge([late], [transfer(minutes=59)])
    assert (report.matched, report.differences) == (1, ())


def test_a_balance_transaction_of_the_window_finds_its_entry_from_before_it():
    older = charge(minutes=-30)  # before the window: loaded by id
    report = reconcile(WINDOW, [txn("charge", "ch_1", 5500)], [], {older.id: older})
    assert (report.matched, report.differences) == (1, ())


def test_only_the_windows_entries_without_a_listed_transaction_are_looked_up_by_source():
    entries = [charge("ch_1"), transfer("tr_1"), charge("ch_old", minutes=-5)]
    found = unmatched_entries(WINDOW, [txn("charge", "ch_1", 5500)], entries)
    assert [e.id for e in found] == ["transfer:tr_1"]


def test_nothing_younger_than_the_grace_period_is_judged():
    now = at(120)
    window = next_window(Cursor(judged_until=at(60)), now, POLICY, first_entry=None)
    assert window == Window(at(50), at(115))  # overlap back, grace short of now
    in_flight = txn("charge", "ch_new", 900, minutes=117)  # its entry not committed yet
    entry_in_flight = transfer("tr_new", minutes=116)  # its transfer not listed yet
    report = reconcile(window, [in_flight], [entry_in_flight], {})
    assert (report.matched, report.differences) == (0, ())
    assert report.judged == {}


def test_the_first_window_starts_an_overlap_before_the_ledgers_first_entry():
    now = at(120)
    assert next_window(None, now, POLICY, first_entry=at(30)) == Window(at(20), at(115))
    assert next_window(None, now, POLICY, first_entry=None) == Window(at(105), at(115))


def test_a_window_overlapping_the_last_one_reports_nothing_twice():
    stripe = [txn("charge", "ch_9", 700, minutes=55)]  # no entry: a difference
    entries = [transfer("tr_ghost", 300, minutes=56)]  # never at Stripe: another
    first = reconcile(WINDOW, stripe, entries, {})
    assert len(first.differences) == 2
    cursor = first.cursor_after(None, POLICY)
    assert cursor.judged_until == WINDOW.end and cursor.version == 1
    assert set(cursor.recent) == {"charge:ch_9", "transfer:tr_ghost"}

    # The next run's window overlaps this one: the same two are listed again, and a charge
    # that Stripe dated inside the last window but listed only now is judged.
    late = txn("charge", "ch_late", 400, minutes=58)
    window = next_window(cursor, at(75), POLICY, first_entry=None)
    assert window.start == at(50)
    second = reconcile(window, [*stripe, late], entries, {}, cursor.recent)
    assert [d.entry_id for d in second.differences] == ["charge:ch_late"]
    assert second.cursor_after(cursor, POLICY).version == 2


def test_the_cursor_forgets_pairs_the_next_window_cannot_meet():
    stripe = [txn("charge", "ch_early", 100, minutes=5), txn("charge", "ch_end", 100, minutes=55)]
    cursor = reconcile(WINDOW, stripe, [], {}).cursor_after(None, POLICY)
    assert set(cursor.recent) == {"charge:ch_end"}
