"""Disputes (chargebacks): a cardholder asks their bank for an order's money back. Stripe takes
the disputed amount and its dispute fee from the platform's balance at once, the platform answers
with evidence, and the card network decides (docs/design/money.md §6).

Stripe is the authority on a dispute: each `charge.dispute.*` webhook makes payments read the
dispute again (`DisputeFacts`, never the webhook's body) and apply it here. What follows from it:
- first sight: the order is disputed (its payment shows the dispute's status), the seller's
  payout is held if not yet paid; a paid one is taken back from the seller (a transfer reversal,
  Stripe idempotency key `dispute_<id>`): Stripe debits the platform, so the platform recovers
  the proceeds from the seller;
- won after a paid seller's transfer was reversed: the seller is paid back what was taken (a new
  transfer, Stripe idempotency key `dispute_won_<id>`; the ledger's `transfer:<tr_>`), the payout
  PAID again by it, so the order's accounts end as if nothing was disputed but Stripe's fee;
- the ledger: the funds withdrawn (`dispute:<id>`), reinstated when won (`dispute_won:<id>`), and
  when lost the hold closed (`dispute_lost:<id>`): the seller bears their proceeds (the payout
  reversed), the platform the rest (`dispute_losses`); Stripe's dispute fee stays a cost either
  way (`stripe_fees`);
- evidence is staged from the order's own history for an admin to edit and submit.

Pure: no Stripe, no database; the service layer (service_layer/disputes.py) applies it, and
domain/dispute_entries.py makes its ledger entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from common.errors import Conflict, InvalidInput
from svc_payments.domain import events
from svc_payments.domain.currency import from_minor

# The platform's loss to disputes lost beyond what it recovered from the seller (the buyer's
# fee and the commission it had kept, or all of it for an order with no payout).
DISPUTE_LOSSES = "dispute_losses"

# Shown for a record the order does not have (yet): its delivery, its entry scan.
NOT_YET_RECORDED = "not yet recorded"

# The evidence fields Stripe takes (its Dispute's `evidence`); text ones, as the admin edits them.
EVIDENCE_FIELDS = frozenset(
    {
        "access_activity_log",
        "billing_address",
        "cancellation_policy_disclosure",
        "cancellation_rebuttal",
        "customer_communication",
        "customer_email_address",
        "customer_name",
        "customer_purchase_ip",
        "duplicate_charge_explanation",
        "duplicate_charge_id",
        "product_description",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "service_date",
        "shipping_address",
        "shipping_carrier",
        "shipping_date",
        "shipping_tracking_number",
        "uncategorized_text",
    }
)
MAX_EVIDENCE_CHARS = 20_000  # Stripe's limit on all text evidence together is 150,000


class DisputeStatus(StrEnum):
    """Stripe's statuses of a dispute."""

    WARNING_NEEDS_RESPONSE = "warning_needs_response"
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"

    @property
    def closed(self) -> bool:
        return self in (DisputeStatus.WON, DisputeStatus.LOST, DisputeStatus.WARNING_CLOSED)


@dataclass(frozen=True)
class BalanceMove:
    """One of the dispute's balance transactions at Stripe: `amount` (negative: withdrawn) and
    the `fee` Stripe charged with it, in the dispute currency's minor units."""

    id: str
    amount: int
    fee: int


@dataclass(frozen=True)
class DisputeFacts:
    """A dispute as Stripe reports it (read from Stripe, never from a webhook body)."""

    id: str
    payment_intent_id: str
    charge_id: str
    amount: int  # minor units of currency_code
    currency_code: str  # upper case
    reason: str
    status: DisputeStatus
    evidence_due_by: datetime | None
    submission_count: int
    balance_moves: tuple[BalanceMove, ...] = ()

    @property
    def withdrawn(self) -> int:
        """What Stripe took from the balance for it (the disputed amount), fee apart."""
        return -sum(m.amount for m in self.balance_moves if m.amount < 0)

    @property
    def reinstated(self) -> int:
        """What Stripe gave back (a won dispute)."""
        return sum(m.amount for m in self.balance_moves if m.amount > 0)

    @property
    def fee(self) -> int:
        return sum(m.fee for m in self.balance_moves)


@dataclass(frozen=True)
class DisputedOrder:
    """What payments knows of the order a dispute is about, from its own records."""

    order_id: str
    payment_id: str
    buyer_id: str
    seller_id: str
    event_id: str
    amount_paid: int  # minor units
    currency_code: str
    purchased_at: datetime
    payment_intent_id: str
    # The seller's delivery (issue 22), when it was recorded before the dispute.
    delivered_at: datetime | None = None
    delivery_method: str = ""


def delivery_record(order: DisputedOrder) -> str:
    """What the evidence says of the delivery: when and how, or that none is recorded."""
    if order.delivered_at is None:
        return NOT_YET_RECORDED
    how = order.delivery_method.removeprefix("DELIVERY_METHOD_").replace("_", " ").lower()
    return f"delivered {order.delivered_at.isoformat()}" + (f" ({how})" if how else "")


def staged_evidence(order: DisputedOrder, charge_id: str) -> dict[str, str]:
    """A first draft of the evidence, from the order's own history only; what is not recorded
    says so (the delivery before the seller delivered; the entry scan, which payments does not
    hear of yet), nothing is made up."""
    paid = f"{from_minor(order.amount_paid, order.currency_code)} {order.currency_code}"
    event = f"event {order.event_id}" if order.event_id else "an event"
    return {
        "product_description": (
            f"Resale ticket(s) for {event}, order {order.order_id}, {paid} paid."
        ),
        "uncategorized_text": "\n".join(
            (
                f"Purchased: {order.purchased_at.isoformat()}",
                f"Buyer account: user {order.buyer_id}",
                f"Order: {order.order_id} ({event}), {paid} paid",
                f"Payment: {order.payment_intent_id}, charge {charge_id or NOT_YET_RECORDED}",
                f"Ticket delivery: {delivery_record(order)}",
                f"Entry scan: {NOT_YET_RECORDED}",
            )
        ),
    }


def checked_evidence(evidence: dict[str, str]) -> dict[str, str]:
    """The admin's evidence, its fields Stripe's; an unknown one is the admin's mistake."""
    for name, value in evidence.items():
        if name not in EVIDENCE_FIELDS:
            raise InvalidInput(f"Unknown evidence field {name!r}", field=f"evidence.{name}")
        if len(value) > MAX_EVIDENCE_CHARS:
            raise InvalidInput(
                f"Evidence {name!r} is longer than {MAX_EVIDENCE_CHARS} characters",
                field=f"evidence.{name}",
            )
    return {name: value.strip() for name, value in evidence.items()}


@dataclass
class Dispute:
    id: str  # Stripe's (du_...)
    order_id: str
    payment_id: str
    buyer_id: str
    seller_id: str
    event_id: str
    amount_paid: int
    purchased_at: datetime
    payment_intent_id: str
    charge_id: str
    amount: int  # disputed, minor units of currency_code
    currency_code: str
    reason: str
    status: DisputeStatus
    evidence_due_by: datetime | None
    submission_count: int
    created_at: datetime
    evidence: dict[str, str] = field(default_factory=dict)
    # What was taken back from the seller: a transfer reversal (trr_...) of a paid payout, or the
    # proceeds of a payout reversed before it was paid (a lost dispute).
    recovered_minor: int = 0
    reversal_id: str = ""
    # A won dispute's transfer paying the seller back what was recovered from their transfer.
    repaid_transfer_id: str = ""
    version: int = 0
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def opened(cls, facts: DisputeFacts, order: DisputedOrder, now: datetime) -> Dispute:
        """First sight of a dispute on `order`'s payment: evidence staged, DisputeOpened."""
        dispute = cls(
            id=facts.id,
            order_id=order.order_id,
            payment_id=order.payment_id,
            buyer_id=order.buyer_id,
            seller_id=order.seller_id,
            event_id=order.event_id,
            amount_paid=order.amount_paid,
            purchased_at=order.purchased_at,
            payment_intent_id=order.payment_intent_id,
            charge_id=facts.charge_id,
            amount=facts.amount,
            currency_code=facts.currency_code,
            reason=facts.reason,
            status=facts.status,
            evidence_due_by=facts.evidence_due_by,
            submission_count=facts.submission_count,
            created_at=now,
            evidence=staged_evidence(order, facts.charge_id),
        )
        dispute.events.append(
            events.DisputeOpened(
                id=facts.id,
                order_id=order.order_id,
                amount_minor=facts.amount,
                currency_code=facts.currency_code,
                reason=facts.reason,
                status=facts.status.value,
            )
        )
        return dispute

    @property
    def open(self) -> bool:
        return not self.status.closed

    def update(self, facts: DisputeFacts) -> bool:
        """Stripe's later word; False when nothing changes. DisputeClosed when it closes."""
        was = (self.status, self.evidence_due_by, self.submission_count, self.reason, self.amount)
        now = (facts.status, facts.evidence_due_by, facts.submission_count, facts.reason)
        if was == (*now, facts.amount):
            return False
        closing = self.open and facts.status.closed
        self.status, self.evidence_due_by, self.submission_count, self.reason = now
        self.amount = facts.amount
        self.charge_id = self.charge_id or facts.charge_id
        self.version += 1
        if closing:
            self.events.append(
                events.DisputeClosed(
                    id=self.id,
                    order_id=self.order_id,
                    status=self.status.value,
                    amount_minor=self.amount,
                    currency_code=self.currency_code,
                )
            )
        return True

    def closed_on_sight(self) -> None:
        """Seen first already closed: DisputeClosed follows DisputeOpened."""
        if self.status.closed:
            self.events.append(
                events.DisputeClosed(
                    id=self.id,
                    order_id=self.order_id,
                    status=self.status.value,
                    amount_minor=self.amount,
                    currency_code=self.currency_code,
                )
            )

    def check_answerable(self) -> None:
        if not self.open:
            raise Conflict(f"The dispute is closed ({self.status.value}): no evidence is taken")

    def save_evidence(self, evidence: dict[str, str]) -> None:
        """The admin's edits (an empty value clears the field)."""
        merged = {**self.evidence, **evidence}
        self.evidence = {name: value for name, value in merged.items() if value}
        self.version += 1

    def recovered(self, amount: int, reversal_id: str = "") -> bool:
        """`amount` of the seller's proceeds was taken back for it; False when it was before."""
        if self.recovered_minor:
            return False
        self.recovered_minor, self.reversal_id = amount, reversal_id
        self.version += 1
        return True

    @property
    def idempotency_key(self) -> str:
        """For the transfer reversal that takes a paid seller's proceeds back."""
        return f"dispute_{self.id}"

    @property
    def repayment_key(self) -> str:
        """For the transfer that pays a won dispute's seller back."""
        return f"dispute_won_{self.id}"

    @property
    def owes_repayment(self) -> bool:
        """Won, after the seller's paid proceeds were taken back from their transfer, and not
        paid back yet: the seller is owed them again (a new transfer)."""
        return (
            self.status is DisputeStatus.WON
            and bool(self.reversal_id)
            and self.recovered_minor > 0
            and not self.repaid_transfer_id
        )

    def repaid(self, transfer_id: str) -> bool:
        """The seller was paid back by `transfer_id`; False when recorded before."""
        if self.repaid_transfer_id:
            return False
        self.repaid_transfer_id = transfer_id
        self.version += 1
        return True
