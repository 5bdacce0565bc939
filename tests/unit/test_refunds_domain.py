"""Refunds: when a buyer may ask, what is left to refund, who bears a refund (the seller's
proceeds first, then the platform's fees), the ledger entries that say so (each balanced, per
order the seller never owed less than nothing), a request's decisions, and a cancelled event's
refund run: its cursor and its pace."""

from datetime import UTC, datetime, timedelta

import pytest

from common.errors import Conflict, InvalidInput
from svc_payments.domain import events, ledger
from svc_payments.domain.ledger import EntryKind, JournalEntry, balances
from svc_payments.domain.payouts import EventSchedule
from svc_payments.domain.refund_runs import RefundRun, RunState, TokenBucket, run_refund_id
from svc_payments.domain.refunds import (
    CHARGED_BACK,
    DISPUTED,
    EVENT_STARTED,
    EVENT_UNKNOWN,
    Refund,
    RefundOrigin,
    RefundState,
    check_reason,
    check_requestable,
    check_undisputed,
    left_to_refund,
    refund_entry,
    reversal_entry,
    split,
)

NOW = datetime(2026, 12, 8, 12, tzinfo=UTC)
LEASE = timedelta(seconds=30)
TOTAL, PROCEEDS = 5500, 4800  # what the buyer paid; the seller's share (fees: 700)


def event(status: str = "SCHEDULED", starts_in: timedelta | None = timedelta(days=2)):
    starts = None if starts_in is None else NOW + starts_in
    return EventSchedule("e1", 1, status, None, starts_at=starts)


def refund(amount: int, origin=RefundOrigin.ADMIN, state=RefundState.APPROVED, id="r1"):
    return Refund(
        id, "o1", "buyer", "seller", amount, "EUR", "broken seat", origin, "admin", NOW, state
    )


def charge_entry() -> JournalEntry:
    return ledger.charge("ch_1", "o1", "EUR", "seller", TOTAL, PROCEEDS, NOW)


def transfer_entry() -> JournalEntry:
    return JournalEntry.moving(
        EntryKind.TRANSFER,
        "tr_1",
        "o1",
        "EUR",
        PROCEEDS,
        debit=ledger.seller_payable("seller"),
        credit=ledger.STRIPE_BALANCE,
        created_at=NOW,
    )


def carried_out(r: Refund, seller_left: int, transfer_id: str = "", n: int = 1) -> list:
    """The refund made (split, Stripe's ids) and its entries, as the service posts them."""
    r.claim("worker", split(r.amount_minor, seller_left, transfer_id), NOW, LEASE)
    r.succeed(f"re_{n}", f"trr_{n}" if transfer_id and r.seller_minor else "", NOW)
    entries = [refund_entry(r, NOW)]
    if r.transfer_reversal_id:
        entries.insert(0, reversal_entry(r, NOW))
    return entries


def owed_to_seller_after_each(entries: list[JournalEntry]) -> list[int]:
    owed, seen = [], []
    for entry in entries:
        seen.append(entry)
        owed.append(-balances(seen).get((ledger.seller_payable("seller"), "EUR"), 0))
    return owed


# -- the buyer's request --------------------------------------------------------------------


def test_a_buyer_may_ask_before_the_event_starts_or_once_it_is_cancelled_or_moved():
    check_requestable(event(), NOW)
    check_requestable(event("CANCELLED", starts_in=-timedelta(hours=1)), NOW)
    check_requestable(event("RESCHEDULED", starts_in=-timedelta(hours=1)), NOW)
    with pytest.raises(Conflict) as started:
        check_requestable(event(starts_in=-timedelta(minutes=1)), NOW)
    assert started.value.message == EVENT_STARTED
    with pytest.raises(Conflict, match="has started"):
        check_requestable(event(starts_in=timedelta(0)), NOW)
    for unknown in (None, event(starts_in=None), event("POSTPONED", starts_in=None)):
        with pytest.raises(Conflict) as refused:
            check_requestable(unknown, NOW)
        assert refused.value.message == EVENT_UNKNOWN


def test_a_payment_under_a_chargeback_or_charged_back_is_not_refunded():
    for open_one in ("needs_response", "under_review"):
        with pytest.raises(Conflict) as refused:
            check_undisputed(open_one)
        assert refused.value.message == DISPUTED
    with pytest.raises(Conflict) as refused:
        check_undisputed("lost")
    assert refused.value.message == CHARGED_BACK
    # Never disputed, an inquiry (no money taken), or won (the money is back): refundable.
    for status in (None, "warning_needs_response", "warning_under_review", "warning_closed", "won"):
        check_undisputed(status)


def test_a_reason_is_required_and_bounded():
    assert check_reason("  seat broken ") == "seat broken"
    with pytest.raises(InvalidInput) as empty:
        check_reason("  ")
    assert empty.value.field == "reason"
    with pytest.raises(InvalidInput, match="at most 500"):
        check_reason("x" * 501)


def test_a_request_is_approved_or_declined_once():
    asked = refund(TOTAL, RefundOrigin.BUYER, RefundState.REQUESTED)
    assert asked.approve("admin", NOW) and asked.state is RefundState.APPROVED
    assert not asked.approve("admin", NOW)  # the same decision again: nothing changes
    with pytest.raises(Conflict, match="approved"):
        asked.decline("admin", "no", NOW)

    declined = refund(TOTAL, RefundOrigin.BUYER, RefundState.REQUESTED)
    assert declined.decline("admin", "the event took place", NOW)
    assert declined.state is RefundState.DECLINED
    assert declined.decline_reason == "the event took place"
    assert not declined.decline("admin", "again", NOW)
    with pytest.raises(Conflict, match="declined"):
        declined.approve("admin", NOW)
    with pytest.raises(Conflict, match="declined"):
        declined.claim("worker", split(TOTAL, PROCEEDS), NOW, LEASE)


# -- amounts and who bears them ---------------------------------------------------------------


def test_what_is_left_counts_only_refunds_that_succeeded():
    given, failed, asked = refund(1000, id="a"), refund(2000, id="b"), refund(500, id="c")
    given.state, failed.state, asked.state = (
        RefundState.SUCCEEDED,
        RefundState.FAILED,
        RefundState.REQUESTED,
    )
    assert left_to_refund(TOTAL, [given, failed, asked]) == 4500


def test_the_sellers_proceeds_bear_a_refund_first_the_fees_the_rest():
    assert split(1000, PROCEEDS) == ledger_split(1000, 0)
    assert split(TOTAL, PROCEEDS) == ledger_split(PROCEEDS, 700)
    # Only 300 of the proceeds left (an earlier refund took the rest): the fees bear the rest.
    assert split(1000, 300) == ledger_split(300, 700)
    assert split(500, 0) == ledger_split(0, 500)
    # A paid seller's share is taken back from their transfer; none when they bear nothing.
    assert split(1000, PROCEEDS, "tr_1").reversed_at_stripe == 1000
    assert split(500, 0, "tr_1").transfer_id == ""


def ledger_split(seller: int, platform: int):
    return split(seller + platform, seller)


def test_a_full_refund_before_the_payout_leaves_every_account_of_the_order_at_zero():
    entries = [charge_entry(), *carried_out(refund(TOTAL), seller_left=PROCEEDS)]
    assert [e.total for e in entries] == [0, 0]
    assert balances(entries) == {}
    assert min(owed_to_seller_after_each(entries)) >= 0


def test_a_full_refund_after_the_payout_reverses_the_transfer_first():
    r = refund(TOTAL)
    made = carried_out(r, seller_left=PROCEEDS, transfer_id="tr_1")
    assert [e.kind for e in made] == [EntryKind.TRANSFER_REVERSAL, EntryKind.REFUND]
    assert [e.id for e in made] == ["transfer_reversal:trr_1", "refund:re_1"]
    entries = [charge_entry(), transfer_entry(), *made]
    assert all(e.total == 0 for e in entries)
    assert balances(entries) == {}
    assert owed_to_seller_after_each(entries) == [PROCEEDS, 0, PROCEEDS, 0]


def test_partial_refunds_take_the_proceeds_first_and_never_owe_the_seller_less_than_nothing():
    first, second, third = refund(3000, id="a"), refund(2000, id="b"), refund(500, id="c")
    entries = [charge_entry()]
    entries += carried_out(first, seller_left=PROCEEDS, n=1)
    entries += carried_out(second, seller_left=PROCEEDS - 3000, n=2)
    assert (second.seller_minor, second.platform_minor) == (1800, 200)
    entries += carried_out(third, seller_left=0, n=3)
    assert (third.seller_minor, third.platform_minor) == (0, 500)
    assert all(e.total == 0 for e in entries)
    assert min(owed_to_seller_after_each(entries)) == 0
    # All 5500 given back: nothing left anywhere.
    assert balances(entries) == {}


def test_a_partial_refund_names_its_cause_and_who_bore_it():
    r = refund(1000)
    [entry] = carried_out(r, seller_left=PROCEEDS)
    assert entry.id == "refund:re_1" and entry.order_id == "o1"
    assert {(p.account, p.amount) for p in entry.postings} == {
        (ledger.STRIPE_BALANCE, -1000),
        (ledger.seller_payable("seller"), 1000),
    }
    assert r.state is RefundState.SUCCEEDED and r.claimed_by is None
    assert r.events == [
        events.RefundIssued(
            id="r1",
            order_id="o1",
            buyer_id="buyer",
            stripe_refund_id="re_1",
            amount_minor=1000,
            currency_code="EUR",
            reason="broken seat",
            origin="ADMIN",
            seller_minor=1000,
            platform_minor=0,
        )
    ]
    assert not r.succeed("re_1", "", NOW)  # recorded twice: once


def test_a_claim_is_one_holders_and_keeps_the_split_stripe_was_asked_with():
    r = refund(1000)
    r.claim("a", split(1000, PROCEEDS), NOW, LEASE)
    with pytest.raises(Conflict, match="being made"):
        r.claim("b", split(1000, PROCEEDS), NOW, LEASE)
    r.refunded_at_stripe("re_1")
    r.release("a")
    # Claimed again later (the proceeds changed meanwhile): the split stays the first one.
    r.claim("b", split(1000, 0), NOW + LEASE, LEASE)
    assert (r.seller_minor, r.platform_minor) == (1000, 0)
    assert (r.idempotency_key, r.reversal_key) == ("refund_r1", "reversal_r1")


# -- a cancelled event's run --------------------------------------------------------------------


def test_a_runs_cursor_only_moves_forward_and_counts_each_batch():
    run = RefundRun("e1", "e1", NOW, total=4)
    run.advance("o2", done=2, failed=0)
    run.advance("o4", done=1, failed=0, skipped=1)
    assert (run.cursor, run.done, run.failed, run.skipped) == ("o4", 3, 0, 1)
    with pytest.raises(ValueError, match="not after"):
        run.advance("o3", done=1, failed=0)  # a batch replayed after a crash is not counted twice
    run.finish(NOW)
    assert (run.state, run.finished_at) == (RunState.DONE, NOW)
    with pytest.raises(ValueError, match="done"):
        run.advance("o5", done=1, failed=0)


def test_a_runs_refund_of_an_order_is_the_same_whenever_it_is_made():
    assert run_refund_id("o1", "e1") == run_refund_id("o1", "e1") != run_refund_id("o1", "e2")
    r = refund(TOTAL, RefundOrigin.EVENT_CANCELLED, id=run_refund_id("o1", "e1"))
    r.event_id = "e1"
    assert r.idempotency_key == "refund_o1_event_e1"
    assert r.stripe_reason is None
    assert refund(1, RefundOrigin.BUYER).stripe_reason == "requested_by_customer"


def test_the_token_bucket_keeps_the_pace_after_its_burst():
    bucket = TokenBucket(rate=20, burst=2, now=0.0)
    assert [bucket.wait(0.0), bucket.wait(0.0)] == [0.0, 0.0]
    assert bucket.wait(0.0) == pytest.approx(0.05)
    assert bucket.wait(0.0) == pytest.approx(0.10)
    # A second later it is full again, never more than its burst.
    later = TokenBucket(rate=20, burst=2, now=0.0)
    assert [later.wait(10.0), later.wait(10.0), later.wait(10.0) > 0] == [0.0, 0.0, True]
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1, now=0.0)
