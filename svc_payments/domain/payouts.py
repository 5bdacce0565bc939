"""Payouts: the seller's proceeds of one paid order, transferred to their Stripe Connect account
once they are due (separate charges and transfers, docs/design/money.md §4).

One payout per paid order, created in the transaction that records the payment's success. It is
due `PAYOUT_DELAY_AFTER_EVENT` after the order's catalogue event ends (`PAYOUT_POLICY`
after_event); a rescheduled event moves it, a postponed or cancelled one leaves it with no due
time until the catalogue says more. The payout sweep transfers a due payout with the Stripe
idempotency key `payout_<id>`, so a transfer made but not recorded is replayed, never doubled.

States:
- SCHEDULED: waiting for its due time (or its event's end, when `due_at` is None);
- WAITING_FOR_ONBOARDING: due or not, the seller has no account Stripe lets us pay yet; the
  seller becoming payable releases it (back to SCHEDULED);
- HELD: a dispute stopped it until it is decided (`release` puts it back);
- PAID: transferred (`transfer_id`; after a won dispute that had reversed it, the transfer
  that paid the seller back: `repaid`);
- REVERSED: taken back, or never to be paid (a refund, a lost dispute);
- FAILED: Stripe refused the transfer for good (`reason` says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from common.errors import Conflict
from svc_payments.domain import events
from svc_payments.domain.fees import FeeOverride
from svc_payments.domain.model import Order

# The sweep's retries while Stripe cannot be reached: 30 s, 1 min, 2 min... at most an hour.
RETRY_FIRST = timedelta(seconds=30)
RETRY_MOST = timedelta(hours=1)
# How often a payout waiting for its seller's onboarding is looked at again by the sweep (the
# onboarding's own release is the usual path: `release_waiting`).
WAITING_RECHECK = timedelta(hours=1)


class PayoutStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    WAITING_FOR_ONBOARDING = "WAITING_FOR_ONBOARDING"
    HELD = "HELD"
    PAID = "PAID"
    REVERSED = "REVERSED"
    FAILED = "FAILED"


# The states the sweep may act on.
PENDING = (PayoutStatus.SCHEDULED, PayoutStatus.WAITING_FOR_ONBOARDING)


class PayoutPolicy(StrEnum):
    """When a seller is paid: `after_event` (the delay after the event ends); `after_delivery`
    (as soon as the seller delivered the tickets: delivery.completed, issue 22)."""

    AFTER_EVENT = "after_event"
    AFTER_DELIVERY = "after_delivery"


def proceeds_minor(order: Order) -> int:
    """What the seller is paid for `order`, in its currency's minor units: its prices less the
    seller's commission, from the order's fee breakdown fixed when payments first stored it
    (domain/fees.py; an order stored before fees keeps all of its prices)."""
    return order.charges.proceeds


class EventStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    POSTPONED = "POSTPONED"
    RESCHEDULED = "RESCHEDULED"
    CANCELLED = "CANCELLED"


@dataclass
class EventSchedule:
    """Payments' copy of a catalogue event: when it ends and whether it still takes place
    (from EventChanged / EventStatusChanged, applied in version order)."""

    id: str
    version: int
    status: str
    ends_at: datetime | None
    # When it starts (a buyer may ask for a refund before that); None when not known.
    starts_at: datetime | None = None
    # The event's own fees (None: the settings'), as of its EventChanged of `fees_version` (-1:
    # none heard yet; an EventStatusChanged carries no fees, so they have a version of their own).
    fee_override: FeeOverride | None = None
    fees_version: int = -1
    events: list[object] = field(default_factory=list, repr=False, compare=False)

    @property
    def ended_at(self) -> datetime | None:
        """When the event ends as far as paying its sellers goes; None while it has no date
        that holds (postponed) or will not take place (cancelled: its orders are refunded)."""
        if self.status in (EventStatus.POSTPONED, EventStatus.CANCELLED):
            return None
        return self.ends_at

    def apply(
        self,
        version: int,
        status: str,
        ends_at: datetime | None,
        starts_at: datetime | None = None,
    ) -> bool:
        """The catalogue's later word; False for an older or repeated one."""
        if version <= self.version:
            return False
        self.version, self.status = version, status
        self.ends_at, self.starts_at = ends_at, starts_at
        return True

    def apply_fees(self, version: int, override: FeeOverride | None) -> bool:
        """The fees of the catalogue's EventChanged of `version`; False when they are older
        than those held, or the same."""
        if version < self.fees_version:
            return False
        moved = version != self.fees_version or override != self.fee_override
        self.fees_version, self.fee_override = version, override
        return moved


def due_time(event: EventSchedule | None, delay: timedelta) -> datetime | None:
    """When a payout for an order of `event` falls due; None while that is not known."""
    if event is None or event.ended_at is None:
        return None
    return event.ended_at + delay


def retry_delay(attempts: int) -> timedelta:
    """After the `attempts`-th failure to reach Stripe (1 for the first)."""
    doublings = min(max(0, attempts - 1), 20)  # past the cap long before: no overflow
    return min(RETRY_FIRST * 2**doublings, RETRY_MOST)


@dataclass(frozen=True)
class Reversal:
    """What must be taken back at Stripe for a reversed payout: `amount_minor` of the transfer
    `transfer_id` (a transfer reversal); nothing (`transfer_id` "", amount 0) when the payout
    was never transferred."""

    payout_id: str
    transfer_id: str
    amount_minor: int
    currency_code: str

    @property
    def at_stripe(self) -> bool:
        return bool(self.transfer_id) and self.amount_minor > 0


@dataclass
class Payout:
    id: str
    order_id: str
    seller_id: str
    event_id: str
    amount_minor: int  # the seller's proceeds, in currency_code's minor units
    currency_code: str
    # The charge the transfer draws on (its source_transaction): ch_..., or the PaymentIntent's
    # id when Stripe did not name the charge.
    charge_id: str
    created_at: datetime
    ticket_id: str = ""  # the listing sold (what the seller recognises the payout by)
    status: PayoutStatus = PayoutStatus.SCHEDULED
    due_at: datetime | None = None  # None: its event's end is not known (or holds no date)
    # The sweep's index: when it looks at the payout next; None when it has nothing to do.
    next_try_at: datetime | None = None
    paid_at: datetime | None = None
    transfer_id: str = ""
    reason: str = ""  # FAILED: Stripe's refusal; HELD / REVERSED: why
    attempts: int = 0  # failures to reach Stripe in a row
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    held_from: PayoutStatus | None = None  # HELD: the state a release returns to
    reversed_minor: int = 0
    # Of a transfer made for an order cancelled since (its OrderCancelled came after the
    # sweep paid it): what must still be reversed at Stripe; the sweep does it
    # (`PayoutSweep.reverse_owed`).
    reversal_owed_minor: int = 0
    version: int = 0
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def scheduled(
        cls,
        id: str,
        order: Order,
        charge_id: str,
        amount_minor: int,
        due_at: datetime | None,
        payable: bool,
        now: datetime,
    ) -> Payout:
        """The payout of a paid order; WAITING_FOR_ONBOARDING when its seller cannot be paid yet
        (`payable`: they have a connected account with payouts enabled)."""
        payout = cls(
            id=id,
            order_id=order.id,
            seller_id=order.seller_id,
            event_id=order.event_id,
            ticket_id=order.ticket_id,
            amount_minor=amount_minor,
            currency_code=order.currency_code,
            charge_id=charge_id,
            created_at=now,
            due_at=due_at,
        )
        if payable:
            payout.next_try_at = due_at
        else:
            payout.status = PayoutStatus.WAITING_FOR_ONBOARDING
            payout.next_try_at = None if due_at is None else max(due_at, now + WAITING_RECHECK)
        return payout

    # -- what Stripe is told ---------------------------------------------------------------

    @property
    def idempotency_key(self) -> str:
        return f"payout_{self.id}"

    @property
    def transfer_group(self) -> str:
        return f"order_{self.order_id}"

    # -- the sweep -----------------------------------------------------------------------------

    def is_due(self, now: datetime) -> bool:
        return (
            self.status is PayoutStatus.SCHEDULED
            and self.due_at is not None
            and self.due_at <= now
            and (self.next_try_at is None or self.next_try_at <= now)
        )

    def claimed(self, now: datetime) -> bool:
        return self.claimed_until is not None and self.claimed_until > now

    def claim(self, holder: str, now: datetime, lease_for: timedelta) -> None:
        """`holder` (one sweep on one replica) transfers it now; another holding it: CONFLICT."""
        if self.claimed(now) and self.claimed_by != holder:
            raise Conflict(f"payout {self.id} is being paid")
        self.claimed_by, self.claimed_until = holder, now + lease_for
        # Out of the due index while claimed; back in it when the claim runs out (its holder
        # stopped before recording the outcome): the next sweep asks Stripe again, same key.
        self.next_try_at = self.claimed_until
        self.version += 1

    def _unclaim(self) -> None:
        self.claimed_by = self.claimed_until = None

    def reschedule(self, due_at: datetime | None, now: datetime) -> bool:
        """Its event moved (or lost or got its date); False when that changes nothing here."""
        if self.status not in PENDING or due_at == self.due_at:
            return False
        self.due_at = due_at
        if self.status is PayoutStatus.SCHEDULED:
            self.next_try_at = due_at
        else:
            self.next_try_at = None if due_at is None else max(due_at, now)
        self.version += 1
        return True

    def wait_for_onboarding(self, now: datetime) -> None:
        """Due, but its seller cannot be paid yet: looked at again later, or released by the
        seller's onboarding (`release_waiting`)."""
        self.status = PayoutStatus.WAITING_FOR_ONBOARDING
        self.next_try_at = now + WAITING_RECHECK
        self._unclaim()
        self.version += 1

    def release_waiting(self, now: datetime) -> bool:
        """The seller became payable: due again (at once if its time has come)."""
        if self.status is not PayoutStatus.WAITING_FOR_ONBOARDING:
            return False
        self.status = PayoutStatus.SCHEDULED
        self.next_try_at = None if self.due_at is None else max(self.due_at, now)
        self.version += 1
        return True

    def paid(self, transfer_id: str, now: datetime) -> bool:
        """Stripe made the transfer; False when it was recorded before (the same transfer). A
        transfer made is a fact: recorded even if the payout was held meanwhile (a dispute
        opened while Stripe answered), which then reverses it."""
        if self.status is PayoutStatus.PAID and self.transfer_id == transfer_id:
            return False
        if self.status in (PayoutStatus.PAID, PayoutStatus.REVERSED):
            raise Conflict(f"payout {self.id} is {self.status.value}: {transfer_id} is not its")
        if self.status is not PayoutStatus.HELD:  # a hold's reason stays: it is reversed next
            self.reason = ""
        self.status, self.transfer_id, self.paid_at = PayoutStatus.PAID, transfer_id, now
        self.next_try_at, self.attempts, self.held_from = None, 0, None
        self._unclaim()
        self.version += 1
        self.events.append(
            events.PayoutPaid(
                id=self.id,
                order_id=self.order_id,
                seller_id=self.seller_id,
                transfer_id=transfer_id,
                amount_minor=self.payable_minor,
                currency_code=self.currency_code,
            )
        )
        return True

    def retry_later(self, now: datetime, error: str) -> timedelta:
        """Stripe could not be reached (the outcome unknown): tried again, with the same
        idempotency key, after a growing delay, which is returned."""
        self.attempts += 1
        delay = retry_delay(self.attempts)
        self.next_try_at = now + delay
        self._unclaim()
        self.version += 1
        return delay

    def fail(self, reason: str) -> None:
        """Stripe refused the transfer for good (e.g. the account can no longer receive it)."""
        self.status, self.reason, self.next_try_at = PayoutStatus.FAILED, reason, None
        self._unclaim()
        self.version += 1

    # -- disputes and refunds ----------------------------------------------------------------

    def hold(self, reason: str = "disputed") -> bool:
        """A dispute: not paid until it is decided. False when already held. A paid payout
        cannot be held (its transfer is reversed instead: `reverse`)."""
        if self.status is PayoutStatus.HELD:
            return False
        if self.status not in (*PENDING, PayoutStatus.FAILED):
            raise Conflict(f"payout {self.id} is {self.status.value}: reverse it instead")
        self.held_from, self.status, self.reason = self.status, PayoutStatus.HELD, reason
        self.next_try_at = None
        self._unclaim()
        self.version += 1
        return True

    def release(self, now: datetime) -> bool:
        """The dispute was won: back to where it was (due again if its time has come)."""
        if self.status is not PayoutStatus.HELD:
            return False
        self.status = self.held_from or PayoutStatus.SCHEDULED
        self.held_from = None
        self.reason = ""
        if self.status in PENDING and self.due_at is not None:
            self.next_try_at = max(self.due_at, now)
        self.version += 1
        return True

    def reverse(self, reason: str, amount_minor: int | None = None) -> Reversal:
        """Takes back `amount_minor` of the proceeds (all of them by default): for a paid payout
        that much of its transfer must be reversed at Stripe (the returned Reversal says so); an
        unpaid one is paid that much less, or never (REVERSED) when nothing is left."""
        left = self.amount_minor - self.reversed_minor
        amount = left if amount_minor is None else amount_minor
        if not 0 < amount <= left or self.status is PayoutStatus.REVERSED:
            raise Conflict(f"payout {self.id}: cannot reverse {amount} of {max(left, 0)} left")
        paid = self.status is PayoutStatus.PAID
        self.reversed_minor += amount
        if self.reversed_minor == self.amount_minor:
            self.status, self.next_try_at = PayoutStatus.REVERSED, None
            self._unclaim()
        self.reason = reason
        self.version += 1
        return Reversal(
            self.id, self.transfer_id if paid else "", amount if paid else 0, self.currency_code
        )

    def owe_reversal(self, reversal: Reversal) -> None:
        """A reversal that must be made at Stripe outside this transaction: owed until then."""
        if reversal.at_stripe:
            self.reversal_owed_minor += reversal.amount_minor
            self.version += 1

    def reversal_made(self) -> int:
        """The owed reversal is made (or refused for good): what it was; 0 when none was owed
        (recorded before)."""
        owed, self.reversal_owed_minor = self.reversal_owed_minor, 0
        if owed:
            self.version += 1
        return owed

    def repaid(self, transfer_id: str, amount_minor: int, now: datetime) -> bool:
        """A won dispute gave back `amount_minor` of the proceeds it had reversed from the paid
        transfer, and `transfer_id` paid them to the seller again: PAID by that transfer (what a
        later refund reverses). False when recorded before."""
        if self.transfer_id == transfer_id:
            return False
        if not 0 < amount_minor <= self.reversed_minor or not self.paid_at:
            raise Conflict(f"payout {self.id}: cannot repay {amount_minor} of it")
        self.reversed_minor -= amount_minor
        self.status, self.transfer_id, self.paid_at = PayoutStatus.PAID, transfer_id, now
        self.reason, self.next_try_at = "", None
        self.version += 1
        self.events.append(
            events.PayoutPaid(
                id=self.id,
                order_id=self.order_id,
                seller_id=self.seller_id,
                transfer_id=transfer_id,
                amount_minor=amount_minor,
                currency_code=self.currency_code,
            )
        )
        return True

    def repayment_refused(self, reason: str) -> None:
        """A won dispute's transfer paying the seller back was refused: the payout says why."""
        self.reason = reason
        self.version += 1

    @property
    def payable_minor(self) -> int:
        """What is still to be transferred (the proceeds less what was reversed before)."""
        return self.amount_minor - self.reversed_minor
