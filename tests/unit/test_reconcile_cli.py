"""`ticketing reconcile`'s text: a line per difference with both sides' figures in the
currency's units, Stripe's fees, what was not compared."""

from __future__ import annotations

from datetime import UTC, datetime

from svc_payments.domain.reconciliation import (
    Difference,
    DifferenceKind,
    Reconciliation,
    ReconciliationReport,
    Window,
)
from svc_payments.entrypoints.cli import describe, money
from svc_payments.entrypoints.reconciliation_api import report_to_proto

START = datetime(2026, 12, 8, 9, 45, tzinfo=UTC)
END = datetime(2026, 12, 8, 10, 45, tzinfo=UTC)


def test_each_difference_is_a_line_with_both_sides_figures():
    result = Reconciliation(
        window=Window(START, END),
        matched=3,
        differences=(
            Difference(
                DifferenceKind.AMOUNT_MISMATCH,
                "refund:re_1",
                "re_1",
                order_id="o-1",
                transaction_ids=("txn_1",),
                stripe_amount=-1000,
                stripe_fee=0,
                stripe_currency="EUR",
                ledger_amount=-5500,
                ledger_fee=0,
                ledger_currency="EUR",
            ),
            Difference(
                DifferenceKind.MISSING_AT_STRIPE,
                "transfer:tr_9",
                "tr_9",
                order_id="o-2",
                ledger_amount=-300,
                ledger_fee=0,
                ledger_currency="GBP",
            ),
        ),
        stripe_fees={"EUR": 190},
        unrecorded_stripe_fees={"EUR": 190},
        not_compared={"payout": 1},
        internal_entries=0,
        judged={},
    )
    report = ReconciliationReport("r-1", END, "on_demand", result)
    assert describe(report_to_proto(report)) == [
        "report r-1 (on_demand), window 2026-12-08T09:45:00Z to 2026-12-08T10:45:00Z",
        "matched 3, differences 2",
        "AMOUNT_MISMATCH refund:re_1: Stripe -10.00 EUR (txn_1); ledger -55.00 EUR (order o-1)",
        "MISSING_AT_STRIPE transfer:tr_9: Stripe none; ledger -3.00 GBP (order o-2)",
        "Stripe's fees: 1.90 EUR (not in the ledger: 1.90 EUR)",
        "not compared (the ledger does not record them): payout 1",
    ]


def test_an_amount_in_a_currency_payments_does_not_charge_is_shown_in_minor_units():
    assert money(1500, "XTS") == "1500 XTS (minor units)"  # ISO 4217 testing code
    assert money(2005, "USD") == "20.05 USD"
