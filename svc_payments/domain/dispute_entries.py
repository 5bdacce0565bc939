"""A dispute's ledger entries (docs/design/money.md §6, §7), each named `<kind>:<source>`: the
funds Stripe withdrew (`dispute:<id>`), reinstated when won (`dispute_won:<id>`), the hold
closed when lost (`dispute_lost:<id>`), a paid seller's proceeds recovered
(`transfer_reversal:<trr_>`) and, the dispute won, paid back (`transfer:<tr_>`).

Pure, as domain/disputes.py, whose dispute they record.
"""

from __future__ import annotations

from datetime import datetime

from svc_payments.domain import ledger
from svc_payments.domain.disputes import DISPUTE_LOSSES, Dispute, DisputeFacts, DisputeStatus
from svc_payments.domain.ledger import EntryKind, JournalEntry, Posting


def withdrawal_entry(dispute: Dispute, facts: DisputeFacts, at: datetime) -> JournalEntry | None:
    """Stripe took the disputed amount and its fee from the balance; None before it has."""
    if facts.withdrawn <= 0:
        return None  # an inquiry (warning_*): nothing taken yet
    postings = [
        Posting(ledger.STRIPE_BALANCE, -(facts.withdrawn + facts.fee)),
        Posting(ledger.DISPUTE_HOLD, facts.withdrawn),
    ]
    if facts.fee:
        postings.append(Posting(ledger.STRIPE_FEES, facts.fee))
    return JournalEntry(
        EntryKind.DISPUTE, dispute.id, dispute.order_id, dispute.currency_code, tuple(postings), at
    )


def reinstated_entry(dispute: Dispute, facts: DisputeFacts, at: datetime) -> JournalEntry | None:
    """A won dispute: Stripe gave the amount back (its fee it keeps)."""
    if dispute.status is not DisputeStatus.WON or facts.reinstated <= 0:
        return None
    return JournalEntry.moving(
        EntryKind.DISPUTE_WON,
        dispute.id,
        dispute.order_id,
        dispute.currency_code,
        facts.reinstated,
        debit=ledger.STRIPE_BALANCE,
        credit=ledger.DISPUTE_HOLD,
        created_at=at,
    )


def lost_entry(dispute: Dispute, facts: DisputeFacts, at: datetime) -> JournalEntry | None:
    """A lost dispute: the money held is the cardholder's for good. The seller bears what was
    recovered from them (their payable cancelled), the platform the rest."""
    if dispute.status is not DisputeStatus.LOST or facts.withdrawn <= 0:
        return None
    from_seller = min(dispute.recovered_minor, facts.withdrawn)
    postings = [Posting(ledger.DISPUTE_HOLD, -facts.withdrawn)]
    if from_seller:
        postings.append(Posting(ledger.seller_payable(dispute.seller_id), from_seller))
    if facts.withdrawn - from_seller:
        postings.append(Posting(DISPUTE_LOSSES, facts.withdrawn - from_seller))
    return JournalEntry(
        EntryKind.DISPUTE_LOST,
        dispute.id,
        dispute.order_id,
        dispute.currency_code,
        tuple(postings),
        at,
    )


def reversal_entry(dispute: Dispute, reversal_id: str, amount: int, at: datetime) -> JournalEntry:
    """A paid seller's proceeds came back from their connected account: owed to them again
    until the dispute is decided (a lost one cancels that: `lost_entry`)."""
    return JournalEntry.moving(
        EntryKind.TRANSFER_REVERSAL,
        reversal_id,
        dispute.order_id,
        dispute.currency_code,
        amount,
        debit=ledger.STRIPE_BALANCE,
        credit=ledger.seller_payable(dispute.seller_id),
        created_at=at,
        memo=f"dispute {dispute.id}",
    )


def repayment_entry(dispute: Dispute, transfer_id: str, amount: int, at: datetime) -> JournalEntry:
    """A won dispute's seller paid back what was recovered from them: a transfer, as a payout's
    (the seller is owed it no more)."""
    return JournalEntry.moving(
        EntryKind.TRANSFER,
        transfer_id,
        dispute.order_id,
        dispute.currency_code,
        amount,
        debit=ledger.seller_payable(dispute.seller_id),
        credit=ledger.STRIPE_BALANCE,
        created_at=at,
        memo=f"dispute {dispute.id} won: the seller paid back",
    )
