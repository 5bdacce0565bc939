"""The payments domain: who may pay, what Stripe's states mean, the charge lease, refunds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from common.errors import Conflict, NotFound
from svc_payments.adapters.outbox_mapping import to_integration
from svc_payments.domain import events
from svc_payments.domain.fees import FeeQuote
from svc_payments.domain.model import (
    IN_PROGRESS,
    ChargeLease,
    Intent,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    must_refund,
)
from ticketing.events.v1 import payments_pb2

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def order(
    status: OrderStatus = OrderStatus.CREATED, price: str = "20.00", currency: str = "USD"
) -> Order:
    return Order("o1", "buyer", Decimal(price), status, currency_code=currency)


def intent(status: str = "succeeded", amount: int = 2000, id: str = "pi_1") -> Intent:
    return Intent(id=id, status=status, amount=amount, client_secret="cs", order_id="o1")


def test_only_the_buyer_may_pay_an_order_that_is_still_open():
    order().check_payable_by("buyer")
    with pytest.raises(NotFound) as other:  # not FORBIDDEN: that would say it exists
        order().check_payable_by("someone-else")
    assert (other.value.message, other.value.field) == ("Order not found", "orderId")
    with pytest.raises(Conflict, match="cancelled"):
        order(OrderStatus.CANCELLED).check_payable_by("buyer")
    with pytest.raises(Conflict, match="already paid"):
        order(OrderStatus.COMPLETE).check_payable_by("buyer")


@pytest.mark.parametrize(
    ("price", "cents", "currency"),
    [
        ("20.05", 2005, "USD"),
        ("20", 2000, "USD"),
        ("0.01", 1, "EUR"),
        ("19.99", 1999, "GBP"),
        ("1000000", 100000000, "EUR"),
    ],
)
def test_amounts_go_to_stripe_and_onto_the_bus_in_minor_units_of_their_currency(
    price, cents, currency
):
    o = order(price=price, currency=currency)
    assert o.amount_minor == cents
    payment = Payment.of_intent("p1", o, intent(amount=o.amount_minor), NOW)
    assert (payment.amount, payment.currency_code) == (Decimal(price), currency)
    [event] = payment.events
    assert (event.amount, event.currency_code) == (Decimal(price), currency)
    on_the_bus = to_integration(event)  # as the unit of work writes it to the outbox
    assert isinstance(on_the_bus, payments_pb2.ChargeCreated)
    assert (on_the_bus.amount, on_the_bus.currency_code) == (cents, currency)


def test_an_order_in_a_currency_payments_cannot_charge_is_refused_not_guessed():
    with pytest.raises(Conflict, match="XTS"):  # ISO 4217's code for testing
        _ = order(currency="XTS").amount_minor


@pytest.mark.parametrize(
    ("stripe_status", "status"),
    [
        ("succeeded", PaymentStatus.SUCCEEDED),
        ("requires_action", PaymentStatus.REQUIRES_ACTION),
        ("processing", PaymentStatus.PROCESSING),
        ("requires_payment_method", PaymentStatus.FAILED),
        ("canceled", PaymentStatus.FAILED),
    ],
)
def test_stripe_states_map_to_payment_states(stripe_status, status):
    assert PaymentStatus.of_intent(stripe_status) is status


def test_a_successful_payment_completes_the_order_and_announces_the_charge():
    o = order()
    payment = Payment.of_intent("p1", o, intent(), NOW)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.client_secret == ""
    assert o.status is OrderStatus.COMPLETE and o.version == 1
    assert payment.events == [
        events.ChargeCreated(
            id="p1",
            order_id="o1",
            stripe_id="pi_1",
            amount=Decimal(20),
            currency_code="USD",
            charges=FeeQuote.without_fees(2000, "USD", 1),  # a copy from before fees
        )
    ]


def test_a_payment_awaiting_authentication_is_pending_then_settles_once():
    o = order()
    payment = Payment.of_intent("p1", o, intent("requires_action"), NOW)
    assert payment.status is PaymentStatus.REQUIRES_ACTION and payment.client_secret == "cs"
    assert o.status is OrderStatus.CREATED
    assert payment.events == [
        events.ChargePending(
            id="p1", order_id="o1", stripe_id="pi_1", amount=Decimal(20), currency_code="USD"
        )
    ]
    payment.events.clear()

    assert not payment.settle(intent("requires_action"), o)  # nothing new
    assert payment.settle(intent("succeeded"), o)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.version == 1
    assert payment.client_secret == "" and o.status is OrderStatus.COMPLETE
    assert [type(e) for e in payment.events] == [events.ChargeCreated]
    assert not payment.settle(intent("succeeded"), o)  # final: a second webhook changes nothing


def test_failed_authentication_fails_the_payment_with_stripes_reason():
    o = order()
    payment = Payment.of_intent("p1", o, intent("requires_action"), NOW)
    payment.events.clear()
    failed = Intent("pi_1", "requires_payment_method", 2000, failure="Authentication failed")
    assert payment.settle(failed, o)
    assert payment.status is PaymentStatus.FAILED and o.status is OrderStatus.CREATED
    assert payment.events == [events.ChargeFailed(order_id="o1", reason="Authentication failed")]


def test_a_declined_payment_announces_the_failure():
    payment = Payment.declined("p1", order(), "pi_1", "Your card was declined.", NOW)
    assert payment.status is PaymentStatus.FAILED
    assert payment.events == [events.ChargeFailed(order_id="o1", reason="Your card was declined.")]


def test_a_charge_is_refunded_when_its_order_was_cancelled_or_is_paid_by_another():
    paid = Payment.of_intent("p1", order(), intent(id="pi_1"), NOW)
    assert not must_refund(order(), None, intent())
    assert must_refund(order(OrderStatus.CANCELLED), None, intent())
    assert must_refund(order(OrderStatus.COMPLETE), paid, intent(id="pi_2"))
    assert not must_refund(order(OrderStatus.COMPLETE), paid, intent(id="pi_1"))
    failed = Payment.declined("p3", order(), "pi_1", "Authentication failed", NOW)
    assert must_refund(order(), failed, intent(id="pi_1"))  # confirmed again after failing
    assert failed.settled_against(intent("requires_payment_method"))
    assert not failed.settled_against(intent())
    # Nothing to give back for a charge that did not go through.
    assert not must_refund(order(OrderStatus.CANCELLED), None, intent("requires_action"))
    refunded = Payment.refunded("p2", order(OrderStatus.CANCELLED), intent(), NOW)
    assert refunded.status is PaymentStatus.REFUNDED and refunded.events == []


def test_one_request_at_a_time_holds_the_charge_lease_until_it_releases_or_it_runs_out():
    lease = ChargeLease("o1")
    assert lease.idempotency_key == "order-o1-0"
    lease.claim("a", NOW, timedelta(seconds=45))
    with pytest.raises(Conflict, match=IN_PROGRESS):
        lease.claim("b", NOW + timedelta(seconds=44), timedelta(seconds=45))
    assert not lease.release("b")  # not b's to release
    assert lease.held(NOW)
    lease.claim("b", NOW + timedelta(seconds=46), timedelta(seconds=45))  # a's ran out
    assert not lease.release("a")
    assert lease.release("b") and not lease.held(NOW + timedelta(seconds=47))


def test_the_idempotency_key_moves_on_only_after_an_attempt_that_charged_nothing():
    lease = ChargeLease("o1")
    lease.claim("a", NOW, timedelta(seconds=45))
    lease.release("a")  # e.g. Stripe unreachable: the outcome is unknown, reuse the key
    assert lease.idempotency_key == "order-o1-0"
    lease.claim("b", NOW, timedelta(seconds=45))
    lease.release("b", charged_nothing=True)  # e.g. no such payment method
    assert lease.idempotency_key == "order-o1-1"
