"""Refunds: money given back to a buyer for a paid order (docs/design/money.md §5).

A refund is asked for by the buyer (a request an admin approves or declines), given by an admin
(in full or in part, with a reason), or given automatically when the order's event is cancelled
(domain/refund_runs.py). Its states:

    REQUESTED --approve--> APPROVED --Stripe refunded--> SUCCEEDED
        |                      \\--Stripe refused for good--> FAILED
        \\--decline--> DECLINED

An admin's refund and an event's are APPROVED from the start. An APPROVED refund is carried out
between a claim and a record (service_layer/refunds.py), with the Stripe idempotency key
`refund_<id>`: a crash or a lost answer after Stripe refunded replays the same refund, never a
second one.

Who bears a refund (the split, decided when it is carried out):
- the seller's proceeds first: as much of the refund as is left of the seller's proceeds of the
  order (its payout, less what earlier refunds took back) comes out of them: the payout is paid
  that much less, or, paid already, that much of its transfer is reversed at Stripe;
- the platform's fees (the buyer's fee and the seller's commission) bear the rest.
A full refund therefore gives back everything: the seller's proceeds and the platform's fees.
A seller is never owed less than nothing for an order, and the platform never gives back more
fees than it kept (a refund is at most what is left of the charge).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from common.errors import Conflict, InvalidInput
from svc_payments.domain import events, ledger
from svc_payments.domain.ledger import EntryKind, JournalEntry, Posting
from svc_payments.domain.payouts import EventSchedule, EventStatus

REASON_MOST = 500  # characters of a refund's reason
NOT_PAID = "Only a paid order can be refunded"
NOTHING_LEFT = "The order has been refunded in full already"
EVENT_STARTED = "The event has started; a refund can no longer be requested"
EVENT_UNKNOWN = "The event's date is not known yet; a refund cannot be requested now"
REQUEST_OPEN = "A refund of this order is already requested or in progress"
# Stripe refuses to refund a disputed charge (`charge_disputed`): the dispute decides first.
DISPUTED = "The payment is disputed; it cannot be refunded until the dispute is decided"
CHARGED_BACK = "The payment was charged back (a dispute lost): the buyer has had the money back"


class RefundBeingMade(Conflict):
    """Another worker holds the refund's lease: it is being made now (or its holder stopped,
    and the lease runs out)."""


class RefundState(StrEnum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    SUCCEEDED = "SUCCEEDED"
    DECLINED = "DECLINED"
    FAILED = "FAILED"

    @property
    def open(self) -> bool:
        return self in (RefundState.REQUESTED, RefundState.APPROVED)


class RefundOrigin(StrEnum):
    """Who asked: the buyer (a request), an admin, the event's cancellation (a refund run), or
    the seller's missed delivery deadline (issue 22)."""

    BUYER = "BUYER"
    ADMIN = "ADMIN"
    EVENT_CANCELLED = "EVENT_CANCELLED"
    DELIVERY_MISSED = "DELIVERY_MISSED"


# What Stripe is told of each origin's refunds (its `reason`, one of its three values or none).
STRIPE_REASON = {RefundOrigin.BUYER: "requested_by_customer"}


def check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A reason is required", field="reason")
    if len(reason) > REASON_MOST:
        raise InvalidInput(f"The reason is at most {REASON_MOST} characters", field="reason")
    return reason


def check_requestable(event: EventSchedule | None, now: datetime) -> None:
    """May a buyer ask for a refund of an order of `event` now? Before the event starts (there is
    no delivery record yet, issue 22), or once it is cancelled or rescheduled. Raises Conflict
    with the reason when not."""
    if event is not None and event.status in (EventStatus.CANCELLED, EventStatus.RESCHEDULED):
        return
    if event is None or event.starts_at is None:
        raise Conflict(EVENT_UNKNOWN)
    if event.starts_at <= now:
        raise Conflict(EVENT_STARTED)


def check_undisputed(dispute_status: str | None) -> None:
    """May the order be refunded as its payment's dispute stands (None: never disputed)? Not
    while a chargeback is open (Stripe refuses a disputed charge's refund), nor once it is lost
    (the buyer's bank gave the money back); an inquiry (`warning_*`) takes no money and a won
    dispute gave it back, so those may. Raises Conflict with the reason when not."""
    if dispute_status in ("needs_response", "under_review"):
        raise Conflict(DISPUTED)
    if dispute_status == "lost":
        raise Conflict(CHARGED_BACK)


@dataclass(frozen=True)
class Split:
    """Who gives back how much of a refund: `seller_minor` out of the seller's proceeds (of which
    `reversed_at_stripe` must be taken back from a transfer made already), the rest,
    `platform_minor`, out of the platform's fees."""

    seller_minor: int
    platform_minor: int
    transfer_id: str = ""  # the payout's transfer, when its seller was paid already

    @property
    def amount_minor(self) -> int:
        return self.seller_minor + self.platform_minor

    @property
    def reversed_at_stripe(self) -> int:
        return self.seller_minor if self.transfer_id else 0


def split(amount_minor: int, seller_left_minor: int, transfer_id: str = "") -> Split:
    """`amount_minor` taken from the seller's proceeds first (`seller_left_minor` of them are
    left), the platform's fees bearing the rest."""
    seller = min(amount_minor, max(seller_left_minor, 0))
    return Split(seller, amount_minor - seller, transfer_id if seller else "")


def left_to_refund(charged_minor: int, refunds: list[Refund]) -> int:
    """What is left of the charge once the refunds that succeeded are taken off."""
    return charged_minor - sum(r.amount_minor for r in refunds if r.state is RefundState.SUCCEEDED)


@dataclass
class Refund:
    id: str
    order_id: str
    buyer_id: str
    seller_id: str
    amount_minor: int  # in currency_code's minor units
    currency_code: str
    reason: str
    origin: RefundOrigin
    requested_by: str  # a user id; "" for an event's cancellation
    created_at: datetime
    state: RefundState = RefundState.APPROVED
    payment_intent: str = ""  # the charge's PaymentIntent (pi_...), what Stripe refunds
    event_id: str = ""  # EVENT_CANCELLED: the event whose run made it
    decided_by: str = ""  # who approved or declined a request
    decided_at: datetime | None = None
    decline_reason: str = ""
    stripe_refund_id: str = ""  # re_...
    transfer_reversal_id: str = ""  # trr_..., when the seller had been paid already
    seller_minor: int = 0  # the split, fixed when it is carried out
    platform_minor: int = 0
    failure: str = ""  # FAILED: what Stripe said
    completed_at: datetime | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    client_key: str = ""  # an admin's idempotency key, with the fingerprint of its input
    fingerprint: str = ""
    version: int = 0
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    # -- what Stripe is told ---------------------------------------------------------------

    @property
    def idempotency_key(self) -> str:
        """`refund_<id>`; an event run's `refund_<order>_event_<event>`; a missed delivery's
        `refund_<order>_delivery_missed`."""
        if self.origin is RefundOrigin.EVENT_CANCELLED:
            return f"refund_{self.order_id}_event_{self.event_id}"
        if self.origin is RefundOrigin.DELIVERY_MISSED:
            return f"refund_{self.order_id}_delivery_missed"
        return f"refund_{self.id}"

    @property
    def reversal_key(self) -> str:
        return f"reversal_{self.id}"

    @property
    def stripe_reason(self) -> str | None:
        return STRIPE_REASON.get(self.origin)

    # -- the request -------------------------------------------------------------------------

    def approve(self, admin_id: str, now: datetime) -> bool:
        """False when it was approved before (a repeated decision)."""
        if self.state is not RefundState.REQUESTED:
            if self.state is RefundState.DECLINED:
                raise Conflict("The refund request was declined")
            return False
        self.state, self.decided_by, self.decided_at = RefundState.APPROVED, admin_id, now
        self.version += 1
        return True

    def decline(self, admin_id: str, reason: str, now: datetime) -> bool:
        if self.state is not RefundState.REQUESTED:
            if self.state is RefundState.DECLINED:
                return False
            raise Conflict("The refund request was approved")
        self.state, self.decided_by, self.decided_at = RefundState.DECLINED, admin_id, now
        self.decline_reason = reason
        self.version += 1
        return True

    # -- carrying it out ---------------------------------------------------------------------

    def claimed(self, now: datetime) -> bool:
        return self.claimed_until is not None and self.claimed_until > now

    def claim(self, holder: str, split: Split, now: datetime, lease_for: timedelta) -> None:
        """`holder` asks Stripe now, with the split it fixed; another holding it: CONFLICT."""
        if self.state is not RefundState.APPROVED:
            raise Conflict(f"The refund is {self.state.value.lower()}")
        if self.claimed(now) and self.claimed_by != holder:
            raise RefundBeingMade("The refund is being made")
        if split.amount_minor != self.amount_minor:
            raise ValueError(f"refund {self.id}: a split of {split} for {self.amount_minor}")
        if not self.stripe_refund_id:  # the split stays what it was when Stripe was asked
            self.seller_minor, self.platform_minor = split.seller_minor, split.platform_minor
        self.claimed_by, self.claimed_until = holder, now + lease_for
        self.version += 1

    def release(self, holder: str) -> None:
        if self.claimed_by == holder:
            self.claimed_by = self.claimed_until = None
            self.version += 1

    def refunded_at_stripe(self, stripe_refund_id: str) -> None:
        """Stripe made the refund (recorded at once, so a later step never asks again)."""
        self.stripe_refund_id = stripe_refund_id
        self.version += 1

    def succeed(self, stripe_refund_id: str, transfer_reversal_id: str, now: datetime) -> bool:
        if self.state is RefundState.SUCCEEDED:
            return False
        if self.state is not RefundState.APPROVED:
            raise Conflict(f"The refund is {self.state.value.lower()}")
        self.state, self.completed_at = RefundState.SUCCEEDED, now
        self.stripe_refund_id, self.transfer_reversal_id = stripe_refund_id, transfer_reversal_id
        self.claimed_by = self.claimed_until = None
        self.version += 1
        self.events.append(
            events.RefundIssued(
                id=self.id,
                order_id=self.order_id,
                buyer_id=self.buyer_id,
                stripe_refund_id=stripe_refund_id,
                amount_minor=self.amount_minor,
                currency_code=self.currency_code,
                reason=self.reason,
                origin=self.origin.value,
                seller_minor=self.seller_minor,
                platform_minor=self.platform_minor,
            )
        )
        return True

    def fail(self, failure: str, now: datetime) -> None:
        """Stripe refused it for good (the charge is refunded already, disputed...)."""
        self.state, self.failure, self.completed_at = RefundState.FAILED, failure, now
        self.claimed_by = self.claimed_until = None
        self.version += 1


# -- the ledger ---------------------------------------------------------------------------------


def refund_entry(refund: Refund, now: datetime) -> JournalEntry:
    """The refund's money leaving the platform's balance, borne by the seller's proceeds
    (`seller_minor`) and the platform's fees (`platform_minor`)."""
    postings = [Posting(ledger.STRIPE_BALANCE, -refund.amount_minor)]
    if refund.seller_minor:
        postings.append(Posting(ledger.seller_payable(refund.seller_id), refund.seller_minor))
    if refund.platform_minor:
        postings.append(Posting(ledger.PLATFORM_FEES, refund.platform_minor))
    return JournalEntry(
        EntryKind.REFUND,
        refund.stripe_refund_id,
        refund.order_id,
        refund.currency_code,
        tuple(postings),
        now,
        memo=f"refund {refund.id} ({refund.origin.value.lower()}): {refund.reason}",
    )


def reversal_entry(refund: Refund, now: datetime) -> JournalEntry:
    """The seller's share taken back from a transfer made already: back in the platform's
    balance, owed by the seller no more (posted before the refund's entry, so the seller's
    payable never goes below what they are owed)."""
    return JournalEntry.moving(
        EntryKind.TRANSFER_REVERSAL,
        refund.transfer_reversal_id,
        refund.order_id,
        refund.currency_code,
        refund.seller_minor,
        debit=ledger.STRIPE_BALANCE,
        credit=ledger.seller_payable(refund.seller_id),
        created_at=now,
        memo=f"refund {refund.id}",
    )
