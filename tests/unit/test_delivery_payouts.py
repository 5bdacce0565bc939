"""PAYOUT_POLICY=after_delivery over the fakes (issue 22): a paid order's payout has no due time
until its seller delivers; delivery.completed makes it due at once and the sweep pays it; an
order never delivered is never paid out, whatever its event does; under after_event a delivery
moves nothing. (A missed delivery's refund: tests/integration/test_delivery_refunds.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from common.protos import timestamp
from svc_payments.domain.payouts import PayoutPolicy, PayoutStatus
from svc_payments.service_layer.delivery_outcomes import DeliveryOutcomes
from svc_payments.service_layer.payouts import PayoutTerms
from svc_payments.service_layer.refunds import RefundHandlers
from tests.unit.payments_world import World, delivery, new_world
from tests.unit.test_payouts_service import event_ends, onboarded, payout_of, sold, sweep_of
from ticketing.events.v1 import delivery_pb2
from ticketing.tickets.v1 import tickets_pb2

AFTER_DELIVERY = PayoutTerms(PayoutPolicy.AFTER_DELIVERY, timedelta(hours=48))


def outcomes_of(world: World) -> DeliveryOutcomes:
    handlers = world.handlers
    refunds = RefundHandlers(handlers.uow, world.stripe, world.clock, timedelta(seconds=45))  # type: ignore[arg-type]
    return DeliveryOutcomes(handlers.uow, refunds, world.clock, handlers.payout_terms)


async def delivered(world: World, order_id: str = "o1") -> None:
    event = delivery_pb2.DeliveryCompleted(
        order_id=order_id, seller_id="seller-1", delivered_at=timestamp(world.clock.now())
    )
    await outcomes_of(world).on_delivery_completed(event, delivery(event))


@pytest.fixture
def world() -> World:
    return new_world(payout_terms=AFTER_DELIVERY)


async def test_a_payout_falls_due_when_its_order_is_delivered_and_is_paid_once(world):
    await onboarded(world)
    await event_ends(world, hours_from_now=3)
    await sold(world)
    await world.pay()
    payout = await payout_of(world)
    assert (payout.status, payout.due_at) == (PayoutStatus.SCHEDULED, None)
    assert await sweep_of(world).pay_due() == 0

    world.clock.advance(600)
    await delivered(world)
    payout = await payout_of(world)
    assert payout.due_at == world.clock.now()
    assert await sweep_of(world).pay_due() == 1
    assert (await payout_of(world)).status is PayoutStatus.PAID
    # The delivery heard again changes nothing: one transfer.
    world.clock.advance(600)
    await delivered(world)
    assert await sweep_of(world).pay_due() == 0
    assert len(world.stripe.transfers.made) == 1


async def test_an_order_never_delivered_is_never_paid_out_whatever_its_event_does(world):
    await onboarded(world)
    await event_ends(world, hours_from_now=3)
    await sold(world)
    await world.pay()
    await event_ends(world, hours_from_now=-100, version=1, status="RESCHEDULED")
    world.clock.advance(30 * 24 * 3600)
    assert await sweep_of(world).pay_due() == 0
    assert (await payout_of(world)).due_at is None
    assert world.stripe.transfers.made == {}


async def test_the_order_copy_records_the_delivery_once_for_a_disputes_evidence(world):
    await sold(world)
    await world.pay()
    delivered_at = world.clock.now()
    event = delivery_pb2.DeliveryCompleted(
        order_id="o1",
        seller_id="seller-1",
        method=tickets_pb2.DELIVERY_METHOD_BARCODE,
        delivered_at=timestamp(delivered_at),
    )
    await outcomes_of(world).on_delivery_completed(event, delivery(event))
    world.clock.advance(600)
    await delivered(world)  # heard again, later: the first delivery stands
    async with world.handlers.uow() as uow:
        order = await uow.orders.get("o1")
    assert order is not None
    assert (order.delivered_at, order.delivery_method) == (
        delivered_at,
        "DELIVERY_METHOD_BARCODE",
    )


async def test_under_after_event_a_delivery_moves_nothing():
    world = new_world()  # PAYOUT_POLICY=after_event
    await onboarded(world)
    await event_ends(world, hours_from_now=3)
    await sold(world)
    await world.pay()
    due_before = (await payout_of(world)).due_at
    assert due_before is not None
    await delivered(world)
    assert (await payout_of(world)).due_at == due_before
    assert await sweep_of(world).pay_due() == 0


def test_a_missed_deliverys_refund_is_one_per_order_with_its_own_stripe_key():
    from svc_payments.domain.refunds import Refund, RefundOrigin
    from svc_payments.service_layer.delivery_outcomes import missed_refund_id

    assert missed_refund_id("o1") == missed_refund_id("o1") != missed_refund_id("o2")
    refund = Refund(
        id=missed_refund_id("o1"),
        order_id="o1",
        buyer_id="b",
        seller_id="s",
        amount_minor=100,
        currency_code="EUR",
        reason="missed",
        origin=RefundOrigin.DELIVERY_MISSED,
        requested_by="",
        created_at=None,  # type: ignore[arg-type]
    )
    assert refund.idempotency_key == "refund_o1_delivery_missed"
