"""A dispute's life as Stripe reports it: opened (evidence staged from the order's own history,
DisputeOpened), updated, closed once (DisputeClosed); the admin's evidence checked; and the
ledger's entries for each outcome, which leave every account where the money really is."""

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from common.errors import Conflict, InvalidInput
from svc_payments.domain import events, ledger
from svc_payments.domain.dispute_entries import (
    lost_entry,
    reinstated_entry,
    repayment_entry,
    reversal_entry,
    withdrawal_entry,
)
from svc_payments.domain.disputes import (
    DISPUTE_LOSSES,
    NOT_YET_RECORDED,
    BalanceMove,
    Dispute,
    DisputedOrder,
    DisputeFacts,
    DisputeStatus,
    checked_evidence,
)
from svc_payments.domain.model import Order
from svc_payments.domain.payouts import Payout, PayoutStatus

NOW = datetime(2026, 12, 8, 12, tzinfo=UTC)
DUE = NOW + timedelta(days=7)
FEE = 1500
TOTAL = 5500  # what the buyer paid
PROCEEDS = 4750  # the seller's part of it
ORDER = DisputedOrder(
    order_id="o1",
    payment_id="pay1",
    buyer_id="buyer-1",
    seller_id="seller-1",
    event_id="ev-1",
    amount_paid=TOTAL,
    currency_code="EUR",
    purchased_at=NOW - timedelta(days=2),
    payment_intent_id="pi_1",
)
WITHDRAWN = (BalanceMove("txn_w", -TOTAL, FEE),)
REINSTATED = (*WITHDRAWN, BalanceMove("txn_r", TOTAL, 0))


def facts(
    status: DisputeStatus = DisputeStatus.NEEDS_RESPONSE,
    moves: tuple[BalanceMove, ...] = WITHDRAWN,
    submissions: int = 0,
) -> DisputeFacts:
    return DisputeFacts(
        "du_1", "pi_1", "ch_1", TOTAL, "EUR", "fraudulent", status, DUE, submissions, moves
    )


def a_payout() -> Payout:
    order = Order("o1", "buyer-1", Decimal("55.00"), currency_code="EUR", seller_id="seller-1")
    return Payout.scheduled("po1", order, "ch_1", PROCEEDS, NOW + timedelta(days=1), True, NOW)


def charge_entry() -> ledger.JournalEntry:
    return ledger.charge("ch_1", "o1", "EUR", "seller-1", TOTAL, PROCEEDS, NOW)


def test_first_sight_stages_evidence_from_the_orders_history_and_announces_it():
    dispute = Dispute.opened(facts(), ORDER, NOW)

    assert (dispute.order_id, dispute.amount, dispute.status) == ("o1", TOTAL, "needs_response")
    assert dispute.evidence_due_by == DUE and dispute.charge_id == "ch_1"
    assert dispute.evidence["product_description"] == (
        "Resale ticket(s) for event ev-1, order o1, 55.00 EUR paid."
    )
    assert dispute.evidence["uncategorized_text"].splitlines() == [
        "Purchased: 2026-12-06T12:00:00+00:00",
        "Buyer account: user buyer-1",
        "Order: o1 (event ev-1), 55.00 EUR paid",
        "Payment: pi_1, charge ch_1",
        f"Ticket delivery: {NOT_YET_RECORDED}",
        f"Entry scan: {NOT_YET_RECORDED}",
    ]
    # Nothing payments does not know is staged (the buyer's email, name, address, IP).
    assert set(dispute.evidence) == {"product_description", "uncategorized_text"}
    assert dispute.events == [
        events.DisputeOpened("du_1", "o1", TOTAL, "EUR", "fraudulent", "needs_response")
    ]


def test_a_delivery_recorded_before_the_dispute_is_staged_as_evidence():
    delivered = dataclasses.replace(
        ORDER,
        delivered_at=NOW - timedelta(days=2),
        delivery_method="DELIVERY_METHOD_MOBILE_TRANSFER",
    )
    dispute = Dispute.opened(facts(), delivered, NOW)

    assert (
        "Ticket delivery: delivered 2026-12-06T12:00:00+00:00 (mobile transfer)"
        in dispute.evidence["uncategorized_text"].splitlines()
    )


def test_stripes_later_word_changes_it_and_closing_is_announced_once():
    dispute = Dispute.opened(facts(), ORDER, NOW)
    dispute.events.clear()
    assert not dispute.update(facts())  # the same word again: nothing
    assert dispute.version == 0

    assert dispute.update(facts(DisputeStatus.UNDER_REVIEW, submissions=1))
    assert (dispute.status, dispute.submission_count, dispute.events) == ("under_review", 1, [])

    assert dispute.update(facts(DisputeStatus.WON, REINSTATED, 1))
    assert dispute.events == [events.DisputeClosed("du_1", "o1", "won", TOTAL, "EUR")]
    assert not dispute.open
    assert not dispute.update(facts(DisputeStatus.WON, REINSTATED, 1))
    assert len(dispute.events) == 1


def test_a_dispute_first_seen_closed_is_opened_and_closed():
    dispute = Dispute.opened(facts(DisputeStatus.LOST), ORDER, NOW)
    dispute.closed_on_sight()
    assert [type(e) for e in dispute.events] == [events.DisputeOpened, events.DisputeClosed]


def test_evidence_is_stripes_fields_only_and_a_closed_dispute_takes_none():
    with pytest.raises(InvalidInput) as refused:
        checked_evidence({"product_description": "x", "favourite_colour": "blue"})
    assert refused.value.field == "evidence.favourite_colour"
    assert checked_evidence({"customer_name": "  Ann  "}) == {"customer_name": "Ann"}

    dispute = Dispute.opened(facts(), ORDER, NOW)
    dispute.save_evidence({"customer_name": "Ann", "product_description": ""})
    assert dispute.evidence["customer_name"] == "Ann"
    assert "product_description" not in dispute.evidence  # cleared
    dispute.check_answerable()
    dispute.update(facts(DisputeStatus.LOST))
    with pytest.raises(Conflict):
        dispute.check_answerable()


def test_an_inquiry_withdraws_nothing_and_posts_nothing():
    inquiry = facts(DisputeStatus.WARNING_NEEDS_RESPONSE, moves=())
    dispute = Dispute.opened(inquiry, ORDER, NOW)
    assert withdrawal_entry(dispute, inquiry, NOW) is None
    assert lost_entry(dispute, inquiry, NOW) is None


def test_won_the_funds_come_back_the_fee_stays_with_stripe_and_the_payout_is_released():
    dispute = Dispute.opened(facts(), ORDER, NOW)
    payout = a_payout()
    assert payout.hold("disputed")
    withdrawn = withdrawal_entry(dispute, facts(), NOW)
    assert withdrawn is not None and withdrawn.id == "dispute:du_1"

    dispute.update(facts(DisputeStatus.WON, REINSTATED))
    won = reinstated_entry(dispute, facts(DisputeStatus.WON, REINSTATED), NOW)
    assert won is not None and won.id == "dispute_won:du_1"
    assert payout.release(NOW) and payout.status is PayoutStatus.SCHEDULED

    entries = [charge_entry(), withdrawn, won]
    assert sum(e.total for e in entries) == 0
    assert ledger.balances(entries) == {
        (ledger.STRIPE_BALANCE, "EUR"): TOTAL - FEE,
        (ledger.STRIPE_FEES, "EUR"): FEE,
        (ledger.seller_payable("seller-1"), "EUR"): -PROCEEDS,  # still owed, paid when due
        (ledger.PLATFORM_FEES, "EUR"): -(TOTAL - PROCEEDS),
    }


def test_lost_before_the_seller_was_paid_the_payout_is_reversed_and_the_seller_bears_it():
    dispute = Dispute.opened(facts(), ORDER, NOW)
    payout = a_payout()
    payout.hold("disputed")
    lost = facts(DisputeStatus.LOST)
    dispute.update(lost)
    left = payout.payable_minor
    reversal = payout.reverse("dispute du_1 lost")
    assert payout.status is PayoutStatus.REVERSED and not reversal.at_stripe  # never paid
    assert dispute.recovered(min(left, lost.withdrawn))
    assert not dispute.recovered(1)  # once
    assert reinstated_entry(dispute, lost, NOW) is None

    entries = [charge_entry(), withdrawal_entry(dispute, lost, NOW), lost_entry(dispute, lost, NOW)]
    assert [e.id for e in entries if e] == ["charge:ch_1", "dispute:du_1", "dispute_lost:du_1"]
    assert sum(e.total for e in entries if e) == 0
    assert ledger.balances(e for e in entries if e) == {
        (ledger.STRIPE_BALANCE, "EUR"): -FEE,  # the buyer has their money back; Stripe its fee
        (ledger.STRIPE_FEES, "EUR"): FEE,
        (DISPUTE_LOSSES, "EUR"): TOTAL - PROCEEDS,  # the fees the platform had kept
        (ledger.PLATFORM_FEES, "EUR"): -(TOTAL - PROCEEDS),
    }


def test_lost_after_the_seller_was_paid_the_transfer_reversal_recovers_the_proceeds():
    dispute = Dispute.opened(facts(), ORDER, NOW)
    payout = a_payout()
    payout.paid("tr_1", NOW)
    transfer = ledger.JournalEntry.moving(
        ledger.EntryKind.TRANSFER,
        "tr_1",
        "o1",
        "EUR",
        PROCEEDS,
        debit=ledger.seller_payable("seller-1"),
        credit=ledger.STRIPE_BALANCE,
        created_at=NOW,
    )
    reversal = payout.reverse("dispute du_1", PROCEEDS)
    assert reversal.at_stripe
    assert (reversal.transfer_id, reversal.amount_minor) == ("tr_1", PROCEEDS)
    assert payout.status is PayoutStatus.REVERSED
    dispute.recovered(PROCEEDS, "trr_1")
    lost = facts(DisputeStatus.LOST)
    dispute.update(lost)

    entries = [
        charge_entry(),
        transfer,
        withdrawal_entry(dispute, lost, NOW),
        reversal_entry(dispute, "trr_1", PROCEEDS, NOW),
        lost_entry(dispute, lost, NOW),
    ]
    assert all(e is not None for e in entries)
    assert sum(e.total for e in entries if e) == 0
    balances = ledger.balances(e for e in entries if e)
    assert balances == {
        (ledger.STRIPE_BALANCE, "EUR"): -FEE,
        (ledger.STRIPE_FEES, "EUR"): FEE,
        (DISPUTE_LOSSES, "EUR"): TOTAL - PROCEEDS,
        (ledger.PLATFORM_FEES, "EUR"): -(TOTAL - PROCEEDS),
    }
    assert dispute.idempotency_key == "dispute_du_1"


def test_won_after_the_seller_was_paid_and_reversed_the_seller_is_paid_back_once():
    dispute = Dispute.opened(facts(), ORDER, NOW)
    payout = a_payout()
    payout.paid("tr_1", NOW)
    transfer = ledger.JournalEntry.moving(
        ledger.EntryKind.TRANSFER,
        "tr_1",
        "o1",
        "EUR",
        PROCEEDS,
        debit=ledger.seller_payable("seller-1"),
        credit=ledger.STRIPE_BALANCE,
        created_at=NOW,
    )
    payout.reverse("dispute du_1", PROCEEDS)
    dispute.recovered(PROCEEDS, "trr_1")
    assert not dispute.owes_repayment  # not decided yet
    won = facts(DisputeStatus.WON, REINSTATED)
    dispute.update(won)
    assert dispute.owes_repayment and dispute.repayment_key == "dispute_won_du_1"
    assert dispute.repaid("tr_2") and not dispute.repaid("tr_3")
    assert not dispute.owes_repayment and dispute.repaid_transfer_id == "tr_2"

    entries = [
        charge_entry(),
        transfer,
        withdrawal_entry(dispute, won, NOW),
        reversal_entry(dispute, "trr_1", PROCEEDS, NOW),
        reinstated_entry(dispute, won, NOW),
        repayment_entry(dispute, "tr_2", PROCEEDS, NOW),
    ]
    assert lost_entry(dispute, won, NOW) is None
    # As if no dispute happened, but for Stripe's fee: the seller paid, the platform its fees.
    assert ledger.balances(e for e in entries if e) == {
        (ledger.STRIPE_BALANCE, "EUR"): TOTAL - PROCEEDS - FEE,
        (ledger.STRIPE_FEES, "EUR"): FEE,
        (ledger.PLATFORM_FEES, "EUR"): -(TOTAL - PROCEEDS),
    }


def test_won_before_the_seller_was_paid_owes_no_repayment():
    dispute = Dispute.opened(facts(), ORDER, NOW)
    dispute.update(facts(DisputeStatus.WON, REINSTATED))
    assert not dispute.owes_repayment


def test_lost_with_no_payout_is_the_platforms_loss_whole():
    dispute = Dispute.opened(facts(), ORDER, NOW)
    lost = facts(DisputeStatus.LOST)
    dispute.update(lost)
    entry = lost_entry(dispute, lost, NOW)
    assert entry is not None
    assert ledger.balances([entry]) == {
        (ledger.DISPUTE_HOLD, "EUR"): -TOTAL,
        (DISPUTE_LOSSES, "EUR"): TOTAL,
    }
