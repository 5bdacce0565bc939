"""The payments service layer with fakes: what a buyer and the order service see for each way a
payment can go, and that no order is ever charged twice."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from common.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    NotYet,
    PaymentDeclined,
    Unavailable,
)
from svc_payments.domain import ledger
from svc_payments.domain.fees import FeeQuote, FeeSchedule
from svc_payments.domain.model import Intent, Order, OrderStatus, PaymentStatus
from svc_payments.service_layer.handlers import (
    ALREADY_PAID,
    REFUNDED_LATE,
)
from tests.unit.fakes_payments import FakeStripe
from tests.unit.payments_world import (
    BUYER,
    EXAMPLE_FEES,
    LEASE,
    World,
    delivery,
    new_world,
)
from ticketing.events.v1 import orders_pb2, payments_pb2


@pytest.fixture
def world() -> World:
    return new_world()


# -- success, decline, unreachable ------------------------------------------------------------


async def test_a_successful_payment_is_stored_announced_and_completes_the_order(world):
    await world.order_created(price="20.05")
    payment = await world.pay()

    assert payment.status is PaymentStatus.SUCCEEDED and payment.stripe_id == "pi_fake1"
    assert str(payment.amount) == "20.05" and payment.user_id == BUYER
    [request] = world.stripe.requests
    assert (request.amount_minor, request.currency_code, request.payment_method) == (
        2005,
        "USD",
        "pm_card_visa",
    )
    assert request.idempotency_key == "order-o1-0"
    # No fees configured: the price is charged, and all of it is the seller's.
    charges = payments_pb2.OrderCharges(quantity=1, subtotal=2005, total=2005, proceeds=2005)
    assert world.published(payments_pb2.ChargeCreated) == [
        payments_pb2.ChargeCreated(
            id=payment.id,
            order_id="o1",
            stripe_id="pi_fake1",
            amount=2005,
            currency_code="USD",
            charges=charges,
        )
    ]
    assert world.db.orders["o1"].status is OrderStatus.COMPLETE


async def test_the_all_in_total_is_charged_and_the_breakdown_announced():
    world = new_world(EXAMPLE_FEES)
    await world.order_created(price="20.05", quantity=2)
    payment = await world.pay()

    # Per ticket: 20.05 + (10 % of 20.05 = 2.005, + 0.50 = 2.505, rounded half up: 2.51).
    [request] = world.stripe.requests
    assert (request.amount_minor, request.currency_code) == (2 * (2005 + 251), "USD")
    assert str(payment.amount) == "45.12"
    # Commission: 5 % of 20.05 = 1.0025, rounded: 1.00 per ticket.
    [created] = world.published(payments_pb2.ChargeCreated)
    assert (created.amount, created.charges) == (
        4512,
        payments_pb2.OrderCharges(
            quantity=2, subtotal=4010, buyer_fees=502, total=4512, commission=200, proceeds=3810
        ),
    )


async def test_an_orders_fees_are_fixed_when_its_copy_is_first_stored():
    world = new_world(EXAMPLE_FEES)
    await world.order_created(price="10.00")
    # The fee settings change (a restart with other values) after the order was placed.
    world.handlers.order_copy.fees = FeeSchedule(buyer_fee_percent=Decimal(50))
    world.handlers.fees = world.handlers.order_copy.fees
    await world.pay()
    assert world.stripe.requests[0].amount_minor == 1000 + 150  # 10 % + 0.50, as placed


async def test_an_order_read_through_is_charged_for_all_its_tickets_with_fees():
    world = new_world(EXAMPLE_FEES)
    world.orders_service.place(Order("o7", BUYER, Decimal("30.00"), quantity=3))
    payment = await world.pay("o7")
    # 3 x (10.00 + 1.00 + 0.50): the read-through fixes the fees as OrderCreated would.
    assert world.stripe.requests[0].amount_minor == 3450 and str(payment.amount) == "34.50"
    assert world.db.orders["o7"].fees == FeeQuote("USD", 3, 1000, 150, 50)


async def test_a_declined_card_announces_the_failure_and_answers_payment_declined(world):
    await world.order_created()
    world.stripe.next_outcome = "declined"
    with pytest.raises(PaymentDeclined) as info:
        await world.pay(method="pm_card_chargeCustomerFail")
    assert info.value.message == "Your card was declined."

    assert world.published(payments_pb2.ChargeFailed) == [
        payments_pb2.ChargeFailed(order_id="o1", reason="Your card was declined.")
    ]
    assert world.published(payments_pb2.ChargeCreated) == []
    assert world.db.payment_of("o1").status is PaymentStatus.FAILED
    # The order service cancels the order; paying it again is refused, not charged.
    world.stripe.next_outcome = "succeeded"
    with pytest.raises(Conflict, match="failed"):
        await world.pay()
    assert world.stripe.charged == []


async def test_stripe_unreachable_publishes_nothing_and_a_retry_then_succeeds(world):
    await world.order_created()
    world.stripe.next_outcome = "unreachable"
    with pytest.raises(Unavailable):
        await world.pay()
    assert world.db.published == [] and world.db.payments == {}
    assert world.db.orders["o1"].status is OrderStatus.CREATED  # still payable

    world.stripe.next_outcome = "succeeded"
    payment = await world.pay()
    assert payment.status is PaymentStatus.SUCCEEDED
    assert len(world.published(payments_pb2.ChargeCreated)) == 1
    # The retry used the same idempotency key: Stripe would answer it with the first outcome.
    assert {r.idempotency_key for r in world.stripe.requests} == {"order-o1-0"}


async def test_a_charge_whose_reply_was_lost_is_recorded_once_when_the_buyer_retries(world):
    await world.order_created()
    world.stripe.next_outcome = "lost_reply"  # Stripe charged, but we never heard
    with pytest.raises(Unavailable):
        await world.pay()
    assert world.db.published == []

    world.stripe.next_outcome = "succeeded"
    payment = await world.pay()  # same key: Stripe hands back the charge it made
    assert payment.stripe_id == "pi_fake1"
    assert len(world.stripe.charged) == 1
    assert len(world.published(payments_pb2.ChargeCreated)) == 1


async def test_a_charge_whose_reply_was_lost_is_recorded_by_the_webhook(world):
    await world.order_created()
    world.stripe.next_outcome = "lost_reply"
    with pytest.raises(Unavailable):
        await world.pay()

    payment = await world.handlers.settle_payment("pi_fake1")
    assert payment.status is PaymentStatus.SUCCEEDED and payment.order_id == "o1"
    assert len(world.published(payments_pb2.ChargeCreated)) == 1
    with pytest.raises(Conflict, match=ALREADY_PAID):
        await world.pay()
    assert len(world.stripe.charged) == 1


async def test_an_unknown_payment_method_is_invalid_input_and_the_next_try_gets_a_new_key(world):
    await world.order_created()
    world.stripe.next_outcome = "invalid"
    with pytest.raises(InvalidInput) as info:
        await world.pay(method="pm_nonexistent")
    assert info.value.field == "paymentMethod"
    assert world.db.published == []

    world.stripe.next_outcome = "succeeded"
    await world.pay()
    assert [r.idempotency_key for r in world.stripe.requests] == ["order-o1-0", "order-o1-1"]


# -- who may pay what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_id", "method", "field"),
    [("", "pm_card_visa", "orderId"), ("o1", "", "paymentMethod"), ("o1", "  ", "paymentMethod")],
)
async def test_order_id_and_payment_method_are_required(world, order_id, method, field):
    await world.order_created()
    with pytest.raises(InvalidInput) as info:
        await world.pay(order_id, method)
    assert info.value.field == field
    assert world.stripe.requests == []


async def test_another_users_order_is_not_found_as_an_unknown_one_is(world):
    await world.order_created()
    with pytest.raises(NotFound) as others:
        await world.pay(user="someone-else")
    with pytest.raises(NotFound) as unknown:
        await world.pay("missing", user="someone-else")
    # The same answer: nothing tells that the order exists, or whose it is.
    assert others.value == unknown.value
    assert (others.value.message, others.value.field) == ("Order not found", "orderId")
    # Nor its state: a cancelled order of another is not a CONFLICT for a stranger.
    await world.order_cancelled()
    with pytest.raises(NotFound):
        await world.pay(user="someone-else")
    assert world.stripe.requests == []


async def test_an_unknown_order_is_not_found_at_once(world):
    with pytest.raises(NotFound) as info:
        await world.pay("missing")
    assert info.value.field == "orderId"
    assert world.orders_service.asked == [("missing", BUYER)]  # asked once, no polling
    assert world.db.orders == {} and world.stripe.requests == []


async def test_an_order_whose_creation_has_not_arrived_is_read_through_and_paid(world):
    world.orders_service.place(Order("o1", BUYER, Decimal("20.05")))
    payment = await world.pay()
    assert payment.status is PaymentStatus.SUCCEEDED and payment.amount == Decimal("20.05")
    assert world.orders_service.asked == [("o1", BUYER)]  # with the buyer's own token
    assert world.db.orders["o1"].status is OrderStatus.COMPLETE
    # Its events, when they come, apply on top of the copy read through.
    await world.order_created(price="20.05")
    assert world.db.orders["o1"].status is OrderStatus.COMPLETE
    await world.order_cancelled()
    assert world.db.orders["o1"].status is OrderStatus.CANCELLED
    assert world.stripe.refunds == [payment.stripe_id]


async def test_a_copy_read_through_then_cancelled_by_its_event_cannot_be_paid(world):
    world.orders_service.place(Order("o1", BUYER, Decimal("20.00")))
    world.stripe.next_outcome = "invalid"
    with pytest.raises(InvalidInput):  # charged nothing, but the copy is stored
        await world.pay(method="pm_nonexistent")
    assert world.db.orders["o1"].status is OrderStatus.CREATED
    await world.order_cancelled()
    with pytest.raises(Conflict, match="cancelled"):
        await world.pay()
    assert world.orders_service.asked == [("o1", BUYER)]


async def test_another_users_order_is_not_found_and_nothing_is_stored(world):
    world.orders_service.place(Order("o1", "someone-else", Decimal("20.00")))
    with pytest.raises(NotFound):
        await world.pay()
    assert world.db.orders == {}


async def test_orders_unreachable_for_an_order_not_arrived_is_unavailable(world):
    world.orders_service.reachable = False
    with pytest.raises(Unavailable):
        await world.pay()
    await world.order_created()
    assert (await world.pay()).status is PaymentStatus.SUCCEEDED  # the copy needs no call


async def test_a_cancelled_order_cannot_be_paid(world):
    await world.order_created()
    await world.order_cancelled()
    with pytest.raises(Conflict, match="cancelled"):
        await world.pay()
    assert world.stripe.requests == []


async def test_a_completed_order_cannot_be_paid_again(world):
    await world.order_created()
    await world.pay()
    with pytest.raises(Conflict, match=ALREADY_PAID):
        await world.pay(method="pm_card_mastercard")
    assert len(world.stripe.requests) == 1


async def test_an_order_with_a_successful_payment_is_refused_even_if_the_copy_says_open(world):
    await world.order_created()
    await world.pay()
    order = world.db.orders["o1"]
    order.status = OrderStatus.CREATED  # as if the order copy had not caught up
    with pytest.raises(Conflict, match=ALREADY_PAID):
        await world.pay()
    assert len(world.stripe.requests) == 1


# -- at most one charge ------------------------------------------------------------------------


async def test_a_second_request_while_a_charge_is_in_flight_is_a_conflict(world):
    await world.order_created()
    world.stripe.gate = asyncio.Event()
    first = asyncio.create_task(world.pay())
    await world.stripe.in_flight.wait()

    with pytest.raises(Conflict, match="in progress"):
        await world.pay()
    world.stripe.gate.set()
    payment = await first
    assert payment.status is PaymentStatus.SUCCEEDED
    assert len(world.stripe.requests) == 1 and len(world.stripe.charged) == 1


async def test_racing_requests_charge_once(world):
    await world.order_created()
    results = await asyncio.gather(*(world.pay() for _ in range(10)), return_exceptions=True)
    paid = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(paid) == 1 and len(world.stripe.charged) == 1
    assert all(isinstance(r, Conflict) for r in refused), refused
    assert len(world.published(payments_pb2.ChargeCreated)) == 1


async def test_a_cancelled_caller_does_not_leave_a_charge_unrecorded(world):
    await world.order_created()
    world.stripe.gate = asyncio.Event()
    caller = asyncio.create_task(world.pay())
    await world.stripe.in_flight.wait()
    caller.cancel()
    await asyncio.sleep(0)
    world.stripe.gate.set()
    for _ in range(50):
        if world.db.payment_of("o1") is not None:
            break
        await asyncio.sleep(0.01)
    assert world.db.payment_of("o1").status is PaymentStatus.SUCCEEDED
    assert world.db.tables["leases"]["o1"].holder is None


async def test_an_expired_lease_lets_the_next_request_try(world):
    await world.order_created()
    # A request claimed the order and died before recording anything.
    async with world.handlers.uow() as uow:
        lease = await uow.leases.get("o1")
        lease.claim("dead-request", world.clock.now(), LEASE)
        await uow.leases.save(lease)
        await uow.commit()
    with pytest.raises(Conflict, match="in progress"):
        await world.pay()
    world.clock.advance(LEASE.total_seconds() + 1)
    payment = await world.pay()
    assert payment.status is PaymentStatus.SUCCEEDED


# -- cancelled meanwhile: refunds ----------------------------------------------------------------


async def test_a_charge_that_succeeds_after_the_order_was_cancelled_is_refunded(world):
    await world.order_created()
    world.stripe.gate = asyncio.Event()
    paying = asyncio.create_task(world.pay())
    await world.stripe.in_flight.wait()
    await world.order_cancelled()  # it expired while Stripe was charging
    world.stripe.gate.set()

    with pytest.raises(Conflict, match=REFUNDED_LATE):
        await paying
    assert world.stripe.refunds == ["pi_fake1"] and world.stripe.charged == []
    assert world.published(payments_pb2.ChargeCreated) == []
    assert world.db.payment_of("o1").status is PaymentStatus.REFUNDED
    assert world.db.orders["o1"].status is OrderStatus.CANCELLED
    # Both movements are in the ledger, named as Stripe's balance transactions name them, and
    # nothing is owed to anyone after them.
    async with world.handlers.uow() as uow:
        entries = await uow.ledger.of_order("o1")
    charge = world.stripe.intents["pi_fake1"].charge_id or "pi_fake1"
    assert sorted(e.id for e in entries) == [f"charge:{charge}", "refund:re_fake1"]
    assert ledger.balances(entries) == {}
    assert {p.account for e in entries for p in e.postings} == {"stripe_balance", "refunds:buyer-1"}


async def test_a_payment_whose_order_is_cancelled_afterwards_is_refunded(world):
    # The order service cancelled (expired) the order before our ChargeCreated reached it, so
    # it will ignore the charge: the money goes back.
    await world.order_created()
    await world.pay()
    await world.order_cancelled(event_id="ev-cancel")
    assert world.stripe.refunds == ["pi_fake1"]
    assert world.db.payment_of("o1").status is PaymentStatus.REFUNDED
    assert world.db.orders["o1"].status is OrderStatus.CANCELLED

    await world.order_cancelled(event_id="ev-cancel")  # redelivered: changes nothing
    assert world.stripe.refunds == ["pi_fake1"]


async def test_a_refund_stripe_cannot_take_now_is_retried_with_the_event(world):
    await world.order_created()
    await world.pay()
    world.stripe.refunds_unreachable = True
    with pytest.raises(Exception, match="unavailable"):
        await world.order_cancelled(event_id="ev-cancel")
    assert world.db.orders["o1"].status is OrderStatus.COMPLETE  # nothing committed
    world.stripe.refunds_unreachable = False
    await world.order_cancelled(event_id="ev-cancel")  # the bus delivers it again
    assert world.stripe.refunds == ["pi_fake1"]
    assert world.db.payment_of("o1").status is PaymentStatus.REFUNDED


# -- pending payments and the webhook ------------------------------------------------------------


async def test_a_payment_needing_authentication_is_pending_until_the_webhook_settles_it(world):
    await world.order_created()
    world.stripe.next_outcome = "requires_action"
    payment = await world.pay()
    assert payment.status is PaymentStatus.REQUIRES_ACTION and payment.client_secret
    assert world.published(payments_pb2.ChargePending) == [
        payments_pb2.ChargePending(
            id=payment.id, order_id="o1", stripe_id="pi_fake1", amount=2000, currency_code="USD"
        )
    ]
    with pytest.raises(Conflict, match="in progress"):
        await world.pay()

    unchanged = await world.handlers.settle_payment("pi_fake1")  # still waiting
    assert unchanged.status is PaymentStatus.REQUIRES_ACTION

    world.stripe.set_status("pi_fake1", "succeeded")  # the customer authenticated
    settled = await world.handlers.settle_payment("pi_fake1")
    assert settled.status is PaymentStatus.SUCCEEDED and settled.client_secret == ""
    assert len(world.published(payments_pb2.ChargeCreated)) == 1
    assert world.db.orders["o1"].status is OrderStatus.COMPLETE

    again = await world.handlers.settle_payment("pi_fake1")  # a webhook delivered twice
    assert again.status is PaymentStatus.SUCCEEDED
    assert len(world.published(payments_pb2.ChargeCreated)) == 1


@pytest.mark.parametrize("stripe_id", ["pi_" + "a" * 253, "cus_1", "pi_a/b", "pi_\u00e9", "pi_"])
async def test_settling_something_that_is_not_an_intent_id_is_bad_input(world, stripe_id):
    class Unreachable(FakeStripe):
        async def retrieve(self, stripe_id: str):
            raise AssertionError("a malformed id was looked up at Stripe")

    world.handlers.settlement.stripe = Unreachable()
    with pytest.raises(InvalidInput) as info:
        await world.handlers.settle_payment(stripe_id)
    assert info.value.field == "stripeId"


async def test_failed_authentication_fails_the_payment(world):
    await world.order_created()
    world.stripe.next_outcome = "requires_action"
    await world.pay()
    world.stripe.set_status("pi_fake1", "requires_payment_method", "Authentication failed")
    settled = await world.handlers.settle_payment("pi_fake1")
    assert settled.status is PaymentStatus.FAILED
    assert world.published(payments_pb2.ChargeFailed) == [
        payments_pb2.ChargeFailed(order_id="o1", reason="Authentication failed")
    ]


async def test_money_taken_after_the_payment_had_failed_is_given_back(world):
    # Authentication failed (the order service cancels the order for it); the customer then
    # confirms the same intent again with another card in Stripe.js, and it succeeds.
    await world.order_created()
    world.stripe.next_outcome = "requires_action"
    await world.pay()
    world.stripe.set_status("pi_fake1", "requires_payment_method", "Authentication failed")
    await world.handlers.settle_payment("pi_fake1")
    world.stripe.set_status("pi_fake1", "succeeded")
    settled = await world.handlers.settle_payment("pi_fake1")
    assert settled.status is PaymentStatus.REFUNDED
    assert world.stripe.refunds == ["pi_fake1"]
    assert world.published(payments_pb2.ChargeCreated) == []


async def test_authentication_completed_after_the_order_was_cancelled_is_refunded(world):
    await world.order_created()
    world.stripe.next_outcome = "requires_action"
    await world.pay()
    await world.order_cancelled()  # the order expired while the buyer was authenticating
    world.stripe.set_status("pi_fake1", "succeeded")
    settled = await world.handlers.settle_payment("pi_fake1")
    assert settled.status is PaymentStatus.REFUNDED
    assert world.stripe.refunds == ["pi_fake1"]
    assert world.published(payments_pb2.ChargeCreated) == []


async def test_settling_an_intent_that_is_not_ours_is_not_found(world):
    with pytest.raises(NotFound):
        await world.handlers.settle_payment("pi_unknown")
    # Another system's intent on the same Stripe account: no order id of ours in its metadata.
    world.stripe.intents["pi_other"] = Intent("pi_other", "succeeded", 500)
    with pytest.raises(NotFound):
        await world.handlers.settle_payment("pi_other")
    assert world.stripe.refunds == []


# -- the order copy and BatchGetPayments ----------------------------------------------------------


async def test_order_events_are_applied_once_and_a_cancellation_may_arrive_first(world):
    cancelled = orders_pb2.OrderCancelled(id="o1", version=1, reason="CANCELLED_BY_USER")
    with pytest.raises(NotYet):
        await world.handlers.order_copy.on_order_cancelled(cancelled, delivery(cancelled, "ev-1"))
    await world.order_created()
    await world.order_created()  # a second OrderCreated for the same order changes nothing
    # retried
    await world.handlers.order_copy.on_order_cancelled(cancelled, delivery(cancelled, "ev-1"))
    assert world.db.orders["o1"].status is OrderStatus.CANCELLED
    assert world.db.orders["o1"].version == 1


async def test_batch_get_returns_the_callers_payments_of_the_given_orders(world):
    await world.order_created("o1")
    await world.order_created("o2", price="5.00")
    await world.order_created("o3", user="someone-else")
    await world.pay("o1")
    await world.pay("o2")
    await world.pay("o3", user="someone-else")

    found = await world.handlers.batch_get_payments(BUYER, ["o2", "o3", "missing", "o1", "o2"])
    assert [p.order_id for p in found] == ["o2", "o1"]
    assert await world.handlers.batch_get_payments(BUYER, []) == []
    with pytest.raises(InvalidInput) as info:
        await world.handlers.batch_get_payments(BUYER, [f"o{n}" for n in range(501)])
    assert info.value.field == "orderIds"


async def test_order_charges_are_the_callers_orders_fixed_breakdowns():
    world = new_world(EXAMPLE_FEES)
    await world.order_created("o1", price="20.00", quantity=2)
    await world.order_created("o2", price="5.00", user="someone-else")
    world.orders_service.place(Order("o3", BUYER, Decimal("10.00"), currency_code="EUR"))

    found = await world.handlers.order_charges(BUYER, ["o3", "o2", "o1", "o1", "nope"], BUYER)
    # o3 was read through (its OrderCreated not here yet) and its fees fixed then; o2 is another
    # buyer's and "nope" unknown: left out.
    assert [(o.id, o.charges.total, o.charges.currency_code) for o in found] == [
        ("o3", 1150, "EUR"),
        ("o1", 2 * 2250, "USD"),
    ]
    assert world.db.orders["o3"].fees == FeeQuote("EUR", 1, 1000, 150, 50)
    assert world.orders_service.asked == [("o3", BUYER), ("nope", BUYER)]
    with pytest.raises(InvalidInput, match="At most 500"):
        await world.handlers.order_charges(BUYER, ["o1"] * 501, BUYER)


async def test_an_order_whose_fees_cannot_be_computed_is_stored_not_retried_for_ever():
    world = new_world(EXAMPLE_FEES)
    await world.order_created(price="20.005")  # no listing has such a price; a producer's bug
    assert world.db.orders["o1"].fees is None
