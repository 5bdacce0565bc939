"""SyncDispute's decisions over in-memory records (the Mongo ones are in
tests/integration/test_disputes.py): an inquiry holds the payout but reverses nothing; a dispute
first seen already lost takes a paid seller's proceeds back, then closes the hold with the seller
bearing them; a reversal Stripe could not make is made by the next delivery, once."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from common.clock import FrozenClock
from common.errors import NotFound, Unavailable
from svc_payments.domain import ledger
from svc_payments.domain.disputes import BalanceMove, Dispute, DisputeFacts, DisputeStatus
from svc_payments.domain.ledger import JournalEntry
from svc_payments.domain.model import Order, Payment, PaymentStatus
from svc_payments.domain.payouts import Payout, PayoutStatus
from svc_payments.service_layer.disputes import DisputeHandlers
from svc_payments.service_layer.ports import StripeUnavailable

NOW = datetime(2026, 12, 8, 12, tzinfo=UTC)
TOTAL, PROCEEDS, FEE = 5000, 4000, 1500
WITHDRAWN = (BalanceMove("txn_w", -TOTAL, FEE),)


class Records:
    """What the dispute handlers read and write, committed or not (no transactions here: each
    handler's unit of work is one at a time)."""

    def __init__(self) -> None:
        order = Order("o1", "buyer", Decimal("50.00"), currency_code="EUR", seller_id="seller")
        self.orders = {"o1": order}
        self.payment = Payment(
            "pay1", "o1", "buyer", Decimal("50.00"), PaymentStatus.SUCCEEDED, "pi_1", NOW
        )
        self.payout = Payout.scheduled("po1", order, "ch_1", PROCEEDS, None, True, NOW)
        self.disputes: dict[str, Dispute] = {}
        self.entries: dict[str, JournalEntry] = {}
        self.published: list[object] = []


class FakeUow:
    def __init__(self, records: Records) -> None:
        self.r = records
        self.orders = self.payments = self.payouts = self.ledger = self.disputes = self

    async def __aenter__(self) -> FakeUow:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    async def commit(self) -> None:
        for dispute in self.r.disputes.values():
            self.r.published.extend(dispute.events)
            dispute.events = []

    # orders, payments, payouts
    async def get(self, key: str):  # orders.get and disputes.get share the name
        return self.r.orders.get(key) or self.r.disputes.get(key)

    async def get_by_stripe_id(self, stripe_id: str) -> Payment | None:
        return self.r.payment if stripe_id == self.r.payment.stripe_id else None

    async def for_order(self, order_id: str) -> Payout | None:
        return self.r.payout if order_id == "o1" else None

    async def save(self, _: object) -> None:
        pass

    async def add(self, dispute: Dispute) -> None:
        self.r.disputes[dispute.id] = dispute

    # ledger
    async def post(self, entry: JournalEntry) -> bool:
        if entry.id in self.r.entries:
            return False
        self.r.entries[entry.id] = entry
        return True


class FakeStripe:
    def __init__(self, facts: DisputeFacts) -> None:
        self.facts = facts
        self.reversals: dict[str, tuple[str, int]] = {}  # idempotency key -> (transfer, amount)
        self.unreachable = False

    async def retrieve_dispute(self, dispute_id: str) -> DisputeFacts | None:
        return self.facts if dispute_id == self.facts.id else None

    async def update_dispute(self, dispute_id, evidence, submit):
        raise AssertionError("not asked here")

    async def reverse_transfer(self, transfer_id: str, amount: int, idempotency_key: str) -> str:
        if self.unreachable:
            raise StripeUnavailable("Stripe is unreachable")
        self.reversals.setdefault(idempotency_key, (transfer_id, amount))
        return f"trr_{len(self.reversals)}"


def facts(status: DisputeStatus, moves: tuple[BalanceMove, ...] = WITHDRAWN) -> DisputeFacts:
    return DisputeFacts(
        "du_1", "pi_1", "ch_1", TOTAL, "EUR", "fraudulent", status, NOW + timedelta(7), 0, moves
    )


def handlers(records: Records, stripe: FakeStripe) -> DisputeHandlers:
    return DisputeHandlers(lambda: FakeUow(records), stripe, FrozenClock(NOW))  # type: ignore[arg-type]


async def test_an_inquiry_holds_the_payout_and_takes_nothing_from_a_paid_seller():
    records = Records()
    inquiry = FakeStripe(facts(DisputeStatus.WARNING_NEEDS_RESPONSE, moves=()))
    view = await handlers(records, inquiry).sync_dispute("du_1")
    assert view.payout_status == "HELD" and records.entries == {}

    paid = Records()
    paid.payout.paid("tr_1", NOW)
    view = await handlers(paid, inquiry).sync_dispute("du_1")
    assert (view.payout_status, inquiry.reversals, paid.entries) == ("PAID", {}, {})
    # The inquiry closes without a chargeback: the held payout is due again.
    inquiry.facts = facts(DisputeStatus.WARNING_CLOSED, moves=())
    assert (await handlers(records, inquiry).sync_dispute("du_1")).payout_status == "SCHEDULED"
    assert [type(e).__name__ for e in records.published] == ["DisputeOpened", "DisputeClosed"]


async def test_first_seen_lost_a_paid_seller_bears_the_proceeds():
    records = Records()
    records.payout.paid("tr_1", NOW)
    stripe = FakeStripe(facts(DisputeStatus.LOST))
    view = await handlers(records, stripe).sync_dispute("du_1")

    assert view.payout_status == "REVERSED" and view.dispute.recovered_minor == PROCEEDS
    assert stripe.reversals == {"dispute_du_1": ("tr_1", PROCEEDS)}
    assert set(records.entries) == {"dispute:du_1", "transfer_reversal:trr_1", "dispute_lost:du_1"}
    lost = {p.account: p.amount for p in records.entries["dispute_lost:du_1"].postings}
    assert lost == {
        ledger.DISPUTE_HOLD: -TOTAL,
        ledger.seller_payable("seller"): PROCEEDS,
        "dispute_losses": TOTAL - PROCEEDS,
    }
    assert [type(e).__name__ for e in records.published] == ["DisputeOpened", "DisputeClosed"]


async def test_a_reversal_stripe_could_not_make_is_made_by_the_next_delivery_once():
    records = Records()
    records.payout.paid("tr_1", NOW)
    stripe = FakeStripe(facts(DisputeStatus.NEEDS_RESPONSE))
    stripe.unreachable = True
    with pytest.raises(Unavailable):
        await handlers(records, stripe).sync_dispute("du_1")
    # The dispute and its withdrawal are recorded; the seller still looks paid.
    assert set(records.entries) == {"dispute:du_1"}
    assert records.payout.status is PayoutStatus.PAID

    stripe.unreachable = False
    for _ in range(2):
        view = await handlers(records, stripe).sync_dispute("du_1")
        assert view.payout_status == "REVERSED"
    assert len(stripe.reversals) == 1
    assert set(records.entries) == {"dispute:du_1", "transfer_reversal:trr_1"}
    entries = list(records.entries.values())
    assert sum(e.total for e in entries) == 0


async def test_a_dispute_of_no_payment_of_ours_is_not_found_and_recorded_nowhere():
    records = Records()
    stranger = FakeStripe(
        dataclasses.replace(facts(DisputeStatus.NEEDS_RESPONSE), payment_intent_id="pi_x")
    )
    with pytest.raises(NotFound):
        await handlers(records, stranger).sync_dispute("du_1")
    assert records.disputes == {} and records.entries == {}
    assert records.payout.status is PayoutStatus.SCHEDULED
