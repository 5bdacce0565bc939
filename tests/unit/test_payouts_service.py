"""Payouts over the fakes: scheduled with the payment's success (with the ledger's charge),
moved by the event's changes, paid once by the sweep (with the ledger's transfer and
PayoutPaid), waiting for an unonboarded seller, retried while Stripe is unreachable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from common.settings import ConfigError
from svc_payments.config import PaymentsSettings
from svc_payments.domain import ledger
from svc_payments.domain.payouts import PayoutPolicy, PayoutStatus
from svc_payments.domain.seller_accounts import ConnectedAccount, SellerAccount
from svc_payments.service_layer.payouts import PayoutSweep, release_waiting_payouts
from tests.unit.fakes_payments import refund_id_of
from tests.unit.payments_world import World, delivery, new_world
from ticketing.events.v1 import catalogue_pb2, payments_pb2
from ticketing.events.v1 import orders_pb2 as order_events

SELLER = "seller-1"
DELAY = timedelta(hours=48)  # PayoutTerms' default


@pytest.fixture
def world() -> World:
    return new_world()


def sweep_of(world: World) -> PayoutSweep:
    return PayoutSweep(world.handlers.uow, world.stripe, world.clock, timedelta(seconds=30))


async def sold(world: World, order_id: str = "o1", event_id: str = "e1", seller=SELLER) -> None:
    ticket = order_events.OrderCreated.Ticket(
        id="t1", price="20.00", currency_code="EUR", quantity=2, seller_id=seller, event_id=event_id
    )
    event = order_events.OrderCreated(id=order_id, user_id="buyer-1", ticket=ticket)
    await world.handlers.order_copy.on_order_created(event, delivery(event))


async def event_ends(world: World, hours_from_now: float, version: int = 0, status="SCHEDULED"):
    ends = Timestamp()
    ends.FromDatetime(world.clock.now() + timedelta(hours=hours_from_now))
    event = catalogue_pb2.EventChanged(id="e1", version=version, status=status, ends_at=ends)
    await world.handlers.event_copy.on_event_changed(event, delivery(event))


async def onboarded(world: World, seller: str = SELLER, payable: bool = True) -> None:
    async with world.handlers.uow() as uow:
        account = ConnectedAccount("acct_" + seller, payable, payable)
        existing = await uow.seller_accounts.get(seller)
        if existing is None:
            await uow.seller_accounts.add(SellerAccount.opened(seller, account, world.clock.now()))
        else:
            existing.refresh(account)
            await uow.seller_accounts.save(existing)
            await release_waiting_payouts(uow, seller, world.clock.now())
        await uow.commit()


async def payout_of(world: World, order_id: str = "o1"):
    async with world.handlers.uow() as uow:
        return await uow.payouts.for_order(order_id)


async def ledger_of(world: World, order_id: str = "o1"):
    async with world.handlers.uow() as uow:
        return ledger.balances(await uow.ledger.of_order(order_id))


async def test_a_paid_order_owes_its_seller_the_proceeds_due_after_the_event(world):
    await onboarded(world)
    await event_ends(world, hours_from_now=3)
    await sold(world)
    await world.pay()
    payout = await payout_of(world)
    assert (payout.status, payout.seller_id, payout.amount_minor, payout.currency_code) == (
        PayoutStatus.SCHEDULED,
        SELLER,
        4000,
        "EUR",
    )
    assert payout.due_at == world.clock.now() + timedelta(hours=3) + DELAY
    assert payout.charge_id.startswith("ch_")
    assert await ledger_of(world) == {
        ("stripe_balance", "EUR"): 4000,
        (f"seller_payable:{SELLER}", "EUR"): -4000,
    }
    assert sum((await ledger_of(world)).values()) == 0, "the order's entries sum to zero"
    # Not due before its time: the sweep transfers nothing.
    world.clock.advance((3 * 3600) + DELAY.total_seconds() - 1)
    await sweep_of(world).pay_due()
    assert world.stripe.transfers.asked == []


async def test_the_sweep_pays_a_due_payout_once(world):
    await onboarded(world)
    await event_ends(world, hours_from_now=-DELAY.total_seconds() / 3600)
    await sold(world)
    await world.pay()
    sweep = sweep_of(world)
    assert await sweep.pay_due() == 1
    payout = await payout_of(world)
    assert payout.status is PayoutStatus.PAID and payout.paid_at == world.clock.now()
    [(transfer_id, request)] = world.stripe.transfers.made.values()
    assert payout.transfer_id == transfer_id
    assert (request.destination, request.amount_minor, request.currency_code) == (
        f"acct_{SELLER}",
        4000,
        "EUR",
    )
    assert (request.transfer_group, request.idempotency_key) == ("order_o1", f"payout_{payout.id}")
    assert request.source_transaction == payout.charge_id
    # The seller is owed nothing more; the order's entries sum to zero.
    assert await ledger_of(world) == {}
    [paid] = world.published(payments_pb2.PayoutPaid)
    assert (paid.order_id, paid.seller_id, paid.transfer_id, paid.amount) == (
        "o1",
        SELLER,
        transfer_id,
        4000,
    )
    # Again: nothing is due, nothing is asked of Stripe.
    assert await sweep.pay_due() == 0
    assert len(world.stripe.transfers.asked) == 1


async def test_a_lost_answer_is_retried_later_and_replays_the_same_transfer(world):
    await onboarded(world)
    await sold(world, event_id="")  # a v1 listing: due the delay after the payment
    await world.pay()
    world.clock.advance(DELAY.total_seconds())
    world.stripe.transfers.next_outcome = "lost_reply"
    sweep = sweep_of(world)
    await sweep.pay_due()
    payout = await payout_of(world)
    assert (payout.status, payout.attempts) == (PayoutStatus.SCHEDULED, 1)
    assert await sweep.pay_due() == 0, "not before its retry time"
    world.stripe.transfers.next_outcome = "ok"
    world.clock.advance(30)
    await sweep.pay_due()
    payout = await payout_of(world)
    assert payout.status is PayoutStatus.PAID
    assert len(world.stripe.transfers.made) == 1 and len(world.stripe.transfers.asked) == 2
    assert payout.transfer_id == next(iter(world.stripe.transfers.made.values()))[0]


async def test_stripe_refusing_fails_the_payout_with_its_reason(world):
    await onboarded(world)
    await sold(world, event_id="")
    await world.pay()
    world.clock.advance(DELAY.total_seconds())
    world.stripe.transfers.next_outcome = "refused"
    await sweep_of(world).pay_due()
    payout = await payout_of(world)
    assert (payout.status, payout.reason) == (
        PayoutStatus.FAILED,
        "The destination account cannot receive transfers",
    )
    assert (await ledger_of(world))[(f"seller_payable:{SELLER}", "EUR")] == -4000


async def test_an_unonboarded_seller_waits_and_is_paid_once_payable(world):
    await event_ends(world, hours_from_now=-100)
    await sold(world)
    await world.pay()
    assert (await payout_of(world)).status is PayoutStatus.WAITING_FOR_ONBOARDING
    await sweep_of(world).pay_due()
    assert world.stripe.transfers.asked == []
    await onboarded(world, payable=False)  # an account, not payable yet
    world.clock.advance(2 * 3600)  # the sweep's own re-check finds it still not payable
    await sweep_of(world).pay_due()
    assert (await payout_of(world)).status is PayoutStatus.WAITING_FOR_ONBOARDING
    await onboarded(world)  # Stripe enabled payouts: the onboarding releases what waited
    assert (await payout_of(world)).status is PayoutStatus.SCHEDULED
    await sweep_of(world).pay_due()
    assert (await payout_of(world)).status is PayoutStatus.PAID


async def test_a_rescheduled_event_moves_its_payouts_and_a_postponed_one_stops_them(world):
    await onboarded(world)
    await sold(world)  # its event not known yet: no due time
    await world.pay()
    assert (await payout_of(world)).due_at is None
    await event_ends(world, hours_from_now=1)
    assert (await payout_of(world)).due_at == world.clock.now() + timedelta(hours=1) + DELAY
    await event_ends(world, hours_from_now=50, version=1, status="RESCHEDULED")
    assert (await payout_of(world)).due_at == world.clock.now() + timedelta(hours=50) + DELAY
    await event_ends(world, hours_from_now=1, version=0)  # an older version: ignored
    assert (await payout_of(world)).due_at == world.clock.now() + timedelta(hours=50) + DELAY
    await event_ends(world, hours_from_now=-500, version=2, status="POSTPONED")
    world.clock.advance(DELAY.total_seconds() * 10)
    await sweep_of(world).pay_due()
    assert world.stripe.transfers.asked == []
    assert (await payout_of(world)).status is PayoutStatus.SCHEDULED


async def test_an_order_cancelled_after_its_charge_reverses_the_payout_and_the_ledger(world):
    await onboarded(world)
    await sold(world, event_id="")
    await world.pay()
    # The order expired at the orders service before it heard of the charge.
    await world.order_cancelled()
    payout = await payout_of(world)
    assert payout.status is PayoutStatus.REVERSED
    assert await ledger_of(world) == {}
    # The charge given back is named by Stripe's refund (its balance transaction's source), so
    # reconciliation pairs the two.
    async with world.handlers.uow() as uow:
        entries = await uow.ledger.of_order("o1")
    (refund,) = world.stripe.refunds
    assert [e.id for e in entries][1:] == [f"refund:{refund_id_of(refund)}"]
    world.clock.advance(DELAY.total_seconds())
    await sweep_of(world).pay_due()
    assert world.stripe.transfers.asked == []


async def test_an_order_cancelled_after_its_payout_was_paid_gets_the_transfer_reversed(world):
    await onboarded(world)
    await sold(world, event_id="")
    await world.pay()
    world.clock.advance(DELAY.total_seconds())
    sweep = sweep_of(world)
    assert await sweep.pay_due() == 1
    payout = await payout_of(world)
    assert payout.status is PayoutStatus.PAID
    # Its OrderCancelled comes only now (a broker outage longer than the payout's delay): the
    # charge is refunded, and the seller's transfer must come back.
    await world.order_cancelled()
    payout = await payout_of(world)
    assert (payout.status, payout.reversal_owed_minor) == (PayoutStatus.REVERSED, 4000)
    assert world.stripe.reversals == {}  # not inside the transaction

    assert await sweep.reverse_owed() == 1
    [(key, (reversal_id, request))] = world.stripe.reversals.items()
    assert (key, request.transfer_id, request.amount_minor) == (
        f"cancel_{payout.id}",
        payout.transfer_id,
        4000,
    )
    assert (await payout_of(world)).reversal_owed_minor == 0
    # The seller owes nothing and is owed nothing: the order's entries sum to zero per account.
    assert await ledger_of(world) == {}
    async with world.handlers.uow() as uow:
        entries = await uow.ledger.of_order("o1")
    assert f"transfer_reversal:{reversal_id}" in [e.id for e in entries]
    # A second sweep has nothing to reverse, and Stripe is not asked again.
    assert await sweep.reverse_owed() == 0
    assert len(world.stripe.reversals) == 1


async def test_an_order_naming_no_seller_makes_no_payout_and_keeps_the_proceeds_owed(world):
    await sold(world, seller="")
    await world.pay()
    assert await payout_of(world) is None
    assert (await ledger_of(world))[("seller_payable:unknown", "EUR")] == -4000


async def test_a_payout_claimed_by_one_sweep_is_left_alone_by_another(world):
    await onboarded(world)
    await sold(world, event_id="")
    await world.pay()
    world.clock.advance(DELAY.total_seconds())
    payout_id = (await payout_of(world)).id
    first, second = sweep_of(world), sweep_of(world)
    assert await first._claim(payout_id) is not None  # first is between its claim and Stripe
    assert await second.pay_due() == 0, "a claimed payout is out of the due index"
    assert await second.pay(payout_id) is None
    assert world.stripe.transfers.asked == []
    # The first's claim ran out (it stopped): the second pays it.
    world.clock.advance(30)
    assert await second.pay(payout_id) is PayoutStatus.PAID
    assert len(world.stripe.transfers.made) == 1


def test_the_payout_policy_is_read_and_an_unknown_one_refused_at_start():
    with pytest.raises(ConfigError, match="PAYOUT_POLICY"):
        PaymentsSettings.from_env({"PAYOUT_POLICY": "after_lunch"})
    after_delivery = PaymentsSettings.from_env({"PAYOUT_POLICY": "after_delivery"})
    assert after_delivery.payout_policy is PayoutPolicy.AFTER_DELIVERY
    settings = PaymentsSettings.from_env({"PAYOUT_DELAY_AFTER_EVENT_SECONDS": "5"})
    assert (settings.payout_policy, settings.payout_delay_after_event_seconds) == (
        PayoutPolicy.AFTER_EVENT,
        5.0,
    )


async def test_a_payment_settled_by_the_webhook_schedules_its_payout_once(world):
    await onboarded(world)
    await sold(world, event_id="")
    world.stripe.next_outcome = "requires_action"
    await world.pay()
    assert await payout_of(world) is None, "nothing is owed while the buyer authenticates"
    assert await ledger_of(world) == {}

    world.stripe.set_status("pi_fake1", "succeeded")
    await world.handlers.settle_payment("pi_fake1")
    await world.handlers.settle_payment("pi_fake1")  # the webhook delivered twice

    payout = await payout_of(world)
    assert (payout.status, payout.amount_minor) == (PayoutStatus.SCHEDULED, 4000)
    async with world.handlers.uow() as uow:
        assert len(await uow.ledger.of_order("o1")) == 1, "one charge entry"
