"""A payout's states: scheduled after its event, waiting for the seller's onboarding, held by a
dispute, paid once, reversed, failed; and the seller's proceeds taken from one place."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from common.errors import Conflict
from svc_payments.domain import events
from svc_payments.domain.model import Order
from svc_payments.domain.payouts import (
    RETRY_MOST,
    WAITING_RECHECK,
    EventSchedule,
    Payout,
    PayoutStatus,
    due_time,
    proceeds_minor,
    retry_delay,
)

NOW = datetime(2026, 12, 8, 12, tzinfo=UTC)
DELAY = timedelta(hours=48)
ORDER = Order("o1", "buyer", Decimal("45.50"), currency_code="EUR", seller_id="s1", event_id="e1")


def payout(due_at: datetime | None = NOW, payable: bool = True) -> Payout:
    return Payout.scheduled("po1", ORDER, "ch_1", proceeds_minor(ORDER), due_at, payable, NOW)


def test_the_proceeds_are_the_orders_total_in_minor_units():
    assert proceeds_minor(ORDER) == 4550
    quantity_of_two = Order("o2", "b", Decimal("40.00") * 2, currency_code="GBP")
    assert proceeds_minor(quantity_of_two) == 8000


def test_a_payout_falls_due_the_delay_after_its_event_ends():
    ends = NOW + timedelta(days=3)
    assert due_time(EventSchedule("e1", 0, "SCHEDULED", ends), DELAY) == ends + DELAY
    assert due_time(EventSchedule("e1", 4, "RESCHEDULED", ends), DELAY) == ends + DELAY
    # Not known, no date that holds, or not taking place: not due.
    assert due_time(None, DELAY) is None
    assert due_time(EventSchedule("e1", 1, "POSTPONED", ends), DELAY) is None
    assert due_time(EventSchedule("e1", 1, "CANCELLED", ends), DELAY) is None


def test_an_events_copy_takes_only_newer_versions():
    event = EventSchedule("e1", 2, "SCHEDULED", NOW)
    assert not event.apply(2, "CANCELLED", None)
    assert not event.apply(1, "CANCELLED", None)
    assert event.apply(3, "RESCHEDULED", NOW + DELAY)
    assert (event.status, event.ends_at) == ("RESCHEDULED", NOW + DELAY)


def test_a_scheduled_payout_is_due_at_its_time_and_named_for_stripe():
    p = payout(due_at=NOW + DELAY)
    assert (p.status, p.seller_id, p.amount_minor, p.currency_code) == (
        PayoutStatus.SCHEDULED,
        "s1",
        4550,
        "EUR",
    )
    assert not p.is_due(NOW)
    assert p.is_due(NOW + DELAY)
    assert (p.idempotency_key, p.transfer_group) == ("payout_po1", "order_o1")


def test_a_payout_without_a_known_end_is_never_due_until_rescheduled():
    p = payout(due_at=None)
    assert not p.is_due(NOW + timedelta(days=365))
    assert p.reschedule(NOW, NOW)
    assert p.is_due(NOW) and p.next_try_at == NOW
    assert not p.reschedule(NOW, NOW), "the same time again changes nothing"


def test_paid_once_with_its_event_and_the_same_transfer_again_changes_nothing():
    p = payout()
    p.claim("sweep-a", NOW, timedelta(seconds=30))
    assert p.paid("tr_1", NOW)
    assert (p.status, p.transfer_id, p.paid_at, p.next_try_at) == (
        PayoutStatus.PAID,
        "tr_1",
        NOW,
        None,
    )
    assert p.events == [events.PayoutPaid("po1", "o1", "s1", "tr_1", 4550, "EUR")]
    version = p.version
    assert not p.paid("tr_1", NOW)
    assert p.version == version
    with pytest.raises(Conflict):
        p.paid("tr_2", NOW)


def test_a_transfer_made_while_a_dispute_held_it_is_recorded_and_keeps_the_reason():
    p = payout()
    p.claim("sweep-a", NOW, timedelta(seconds=30))
    p.hold()  # the dispute came while Stripe answered
    assert p.paid("tr_1", NOW)
    assert (p.status, p.reason) == (PayoutStatus.PAID, "disputed")


def test_a_claim_keeps_another_sweep_out_until_it_runs_out():
    p = payout()
    p.claim("sweep-a", NOW, timedelta(seconds=30))
    with pytest.raises(Conflict):
        p.claim("sweep-b", NOW + timedelta(seconds=29), timedelta(seconds=30))
    assert not p.is_due(NOW + timedelta(seconds=29)), "out of the due index while claimed"
    assert p.is_due(NOW + timedelta(seconds=30)), "back in it once the claim ran out"
    p.claim("sweep-b", NOW + timedelta(seconds=30), timedelta(seconds=30))
    assert p.claimed_by == "sweep-b"


def test_stripe_unreachable_retries_later_with_a_growing_delay():
    p = payout()
    p.claim("sweep-a", NOW, timedelta(seconds=30))
    first = p.retry_later(NOW, "timeout")
    assert p.next_try_at == NOW + first and p.claimed_by is None
    assert not p.is_due(NOW) and p.is_due(NOW + first)
    assert p.retry_later(NOW, "timeout") == 2 * first
    assert retry_delay(50) == RETRY_MOST


def test_an_unpayable_seller_makes_it_wait_until_released():
    p = payout(payable=False)
    assert p.status is PayoutStatus.WAITING_FOR_ONBOARDING
    assert not p.is_due(NOW)
    assert p.next_try_at == NOW + WAITING_RECHECK, "the sweep looks again later"
    assert p.release_waiting(NOW + timedelta(minutes=1))
    assert p.status is PayoutStatus.SCHEDULED and p.is_due(NOW + timedelta(minutes=1))
    assert not p.release_waiting(NOW), "released once"
    # The sweep finding the seller not payable at its time:
    p.wait_for_onboarding(NOW)
    assert (p.status, p.next_try_at) == (PayoutStatus.WAITING_FOR_ONBOARDING, NOW + WAITING_RECHECK)


def test_a_payout_waiting_before_its_time_is_released_for_its_time():
    p = payout(due_at=NOW + DELAY, payable=False)
    assert p.release_waiting(NOW)
    assert p.next_try_at == NOW + DELAY and not p.is_due(NOW)


def test_a_dispute_holds_it_and_a_won_dispute_releases_it():
    p = payout(payable=False)
    assert p.hold()
    assert (p.status, p.reason, p.next_try_at) == (PayoutStatus.HELD, "disputed", None)
    assert not p.is_due(NOW)
    assert not p.hold(), "held once"
    assert p.release(NOW)
    assert p.status is PayoutStatus.WAITING_FOR_ONBOARDING and p.reason == ""
    scheduled = payout()
    scheduled.hold()
    scheduled.release(NOW)
    assert scheduled.is_due(NOW)


def test_a_paid_payout_is_reversed_at_stripe_not_held():
    p = payout()
    p.paid("tr_1", NOW)
    with pytest.raises(Conflict):
        p.hold()
    part = p.reverse("refunded in part", 1000)
    assert (part.transfer_id, part.amount_minor, part.at_stripe) == ("tr_1", 1000, True)
    assert p.status is PayoutStatus.PAID, "3550 still with the seller"
    rest = p.reverse("dispute lost")
    assert (rest.amount_minor, p.status, p.reason) == (3550, PayoutStatus.REVERSED, "dispute lost")
    with pytest.raises(Conflict):
        p.reverse("again")


def test_an_unpaid_payout_reversed_is_never_paid_and_nothing_goes_to_stripe():
    p = payout()
    part = p.reverse("refunded in part", 550)
    assert not part.at_stripe and part.amount_minor == 0
    assert (p.status, p.payable_minor) == (PayoutStatus.SCHEDULED, 4000)
    p.reverse("refunded")
    assert p.status is PayoutStatus.REVERSED and not p.is_due(NOW)
    with pytest.raises(Conflict):
        payout().reverse("too much", 4551)


def test_stripe_refusing_for_good_fails_it_with_the_reason():
    p = payout()
    p.claim("sweep-a", NOW, timedelta(seconds=30))
    p.fail("The destination account cannot receive transfers")
    assert (p.status, p.reason, p.next_try_at) == (
        PayoutStatus.FAILED,
        "The destination account cannot receive transfers",
        None,
    )
    assert not p.is_due(NOW + DELAY)


def test_a_won_disputes_repayment_pays_the_reversed_proceeds_again_once():
    p = payout()
    p.paid("tr_1", NOW)
    p.reverse("dispute du_1", 4550)
    assert p.status is PayoutStatus.REVERSED
    p.events.clear()
    assert p.repaid("tr_2", 4550, NOW + DELAY)
    assert (p.status, p.transfer_id, p.payable_minor) == (PayoutStatus.PAID, "tr_2", 4550)
    [announced] = p.events
    assert isinstance(announced, events.PayoutPaid) and announced.transfer_id == "tr_2"
    assert not p.repaid("tr_2", 4550, NOW + DELAY)  # recorded before: nothing changes
    assert len(p.events) == 1
    never_paid = payout()
    never_paid.reverse("dispute du_2 lost")
    with pytest.raises(Conflict):
        never_paid.repaid("tr_3", 4550, NOW)  # nothing was ever transferred to pay back
