"""CreatePayment's idempotency key (docs/api.md IDEM-1..6, IDEM-8), the order's currency carried
to the charge (DOM-5), and BatchGetPayments by payment ids; the service layer with fakes."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from common.errors import Conflict, IdempotencyKeyReused, InvalidInput, PaymentDeclined
from common.idempotency import fingerprint
from svc_payments.domain.idempotency import IdempotencyRecord, KeyState, KeyUse
from svc_payments.domain.model import Order, PaymentStatus
from svc_payments.service_layer.handlers import ALREADY_PAID
from svc_payments.service_layer.idempotency import KeyInFlight
from tests.unit.payments_world import BUYER, LEASE, World, new_world
from ticketing.events.v1 import payments_pb2


@pytest.fixture
def world() -> World:
    return new_world()


# -- the key's format --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "a b", "k" * 65, "ключ", "a/b", "a.b"])
async def test_a_missing_or_malformed_key_is_bad_input_and_charges_nothing(world, key):
    await world.order_created()
    with pytest.raises(InvalidInput) as info:
        await world.pay(key=key)
    assert info.value.field == "idempotency_key"
    assert world.stripe.requests == [] and world.db.keys == {}


@pytest.mark.parametrize("key", ["k", "K" * 64, "0f6c2b1e-4c1a-4d8e-9d5e-2f1b3c4d5e6f", "a_b-C9"])
async def test_keys_of_1_to_64_letters_digits_dashes_and_underscores_are_taken(world, key):
    await world.order_created()
    assert (await world.pay(key=key)).status is PaymentStatus.SUCCEEDED


# -- same key, same input: the first outcome ---------------------------------------------------


async def test_a_repeat_returns_the_first_payment_and_charges_once(world):
    await world.order_created()
    first = await world.pay(key="k1")
    again = await world.pay(key="k1")
    assert again == first
    assert len(world.stripe.requests) == 1
    assert len(world.published(payments_pb2.ChargeCreated)) == 1
    record = world.db.keys[f"{BUYER}/k1"]
    assert (record.state, record.payment_id) == (KeyState.PAYMENT, first.id)


async def test_a_repeat_reads_the_payment_as_it_is_now(world):
    await world.order_created()
    world.stripe.next_outcome = "requires_action"
    first = await world.pay(key="k1")
    assert first.status is PaymentStatus.REQUIRES_ACTION
    world.stripe.set_status(first.stripe_id, "succeeded")
    await world.handlers.settle_payment(first.stripe_id)  # the webhook

    again = await world.pay(key="k1")
    assert (again.id, again.status) == (first.id, PaymentStatus.SUCCEEDED)
    assert len(world.stripe.requests) == 1


async def test_a_declined_charge_is_an_outcome_a_repeat_gets_again(world):
    await world.order_created()
    world.stripe.next_outcome = "declined"
    with pytest.raises(PaymentDeclined) as first:
        await world.pay(method="pm_card_chargeCustomerFail", key="k1")
    world.stripe.next_outcome = "succeeded"

    with pytest.raises(PaymentDeclined) as again:
        await world.pay(method="pm_card_chargeCustomerFail", key="k1")
    assert again.value.message == first.value.message == "Your card was declined."
    assert len(world.stripe.requests) == 1
    assert len(world.published(payments_pb2.ChargeFailed)) == 1
    # A new key is a new attempt, judged afresh: the order's payment failed.
    with pytest.raises(Conflict, match="failed"):
        await world.pay(key="k2")
    assert world.stripe.charged == []


async def test_a_refusal_without_effect_records_nothing_so_the_repeat_runs(world):
    await world.order_created()
    world.stripe.next_outcome = "invalid"
    with pytest.raises(InvalidInput):
        await world.pay(key="k1")
    assert world.db.keys == {}
    world.stripe.next_outcome = "succeeded"
    payment = await world.pay(key="k1")
    assert payment.status is PaymentStatus.SUCCEEDED and len(world.stripe.charged) == 1


async def test_stripe_unreachable_leaves_no_outcome_and_the_repeat_runs(world):
    await world.order_created()
    world.stripe.next_outcome = "unreachable"
    with pytest.raises(Exception, match="unavailable"):
        await world.pay(key="k1")
    assert world.db.keys[f"{BUYER}/k1"].state is KeyState.UNKNOWN  # nothing to replay
    world.stripe.next_outcome = "succeeded"
    payment = await world.pay(key="k1")
    assert payment.status is PaymentStatus.SUCCEEDED and len(world.stripe.charged) == 1
    assert world.db.keys[f"{BUYER}/k1"].state is KeyState.PAYMENT


async def test_a_lost_reply_is_settled_by_the_repeat_with_the_same_stripe_key(world):
    await world.order_created()
    world.stripe.next_outcome = "lost_reply"  # charged, but we never heard
    with pytest.raises(Exception, match="unavailable"):
        await world.pay(key="k1")
    payment = await world.pay(key="k1")
    assert payment.status is PaymentStatus.SUCCEEDED
    assert len(world.stripe.charged) == 1
    assert {r.idempotency_key for r in world.stripe.requests} == {"order-o1-0"}


async def test_a_lost_reply_settled_by_the_webhook_first_is_the_repeats_outcome(world):
    """The charge went through but its answer was lost; Stripe's webhook recorded it before
    the client repeated: the repeat gets that payment, not a conflict with itself."""
    await world.order_created()
    world.stripe.next_outcome = "lost_reply"
    with pytest.raises(Exception, match="unavailable"):
        await world.pay(key="k1")
    adopted = await world.handlers.settle_payment("pi_fake1")  # the webhook
    assert adopted.status is PaymentStatus.SUCCEEDED

    assert await world.pay(key="k1") == adopted
    assert await world.pay(key="k1") == adopted  # and from now on, from its record
    assert len(world.stripe.requests) == 1
    # Another key on the paid order is another action: a conflict.
    with pytest.raises(Conflict, match=ALREADY_PAID):
        await world.pay(key="k2")


# -- same key, other input: refused ------------------------------------------------------------


async def test_a_key_reused_for_another_order_or_card_is_refused_and_does_nothing(world):
    await world.order_created("o1")
    await world.order_created("o2")
    await world.pay("o1", key="k1")

    for order_id, method in (("o2", "pm_card_visa"), ("o1", "pm_card_mastercard")):
        with pytest.raises(IdempotencyKeyReused) as info:
            await world.pay(order_id, method, key="k1")
        assert info.value.field == "idempotency_key"
    assert len(world.stripe.requests) == 1
    assert world.db.payment_of("o2") is None


async def test_keys_are_per_caller(world):
    await world.order_created("o1")
    await world.order_created("o2", user="buyer-2")
    one = await world.pay("o1", key="shared")
    two = await world.pay("o2", user="buyer-2", key="shared")
    assert (one.order_id, two.order_id) == ("o1", "o2") and len(world.stripe.charged) == 2


async def test_a_key_is_forgotten_after_24_hours(world):
    await world.order_created("o1")
    await world.order_created("o2")
    await world.pay("o1", key="k1")
    world.clock.advance(24 * 3600 - 1)
    with pytest.raises(IdempotencyKeyReused):
        await world.pay("o2", key="k1")
    world.clock.advance(1)  # the record may still be there: it is ignored all the same
    assert f"{BUYER}/k1" in world.db.keys
    assert (await world.pay("o2", key="k1")).order_id == "o2"


# -- concurrency: the key is claimed before the charge -----------------------------------------


def waiting_on_the_key(world: World) -> asyncio.Event:
    """Set once a request has found its key being charged twice: it is waiting for the outcome
    (one that does not wait would have returned or raised after its first look)."""
    waiting = asyncio.Event()
    looks = 0
    replay = world.handlers.keys.replay

    async def counted(use):
        nonlocal looks
        try:
            return await replay(use)
        except KeyInFlight:
            looks += 1
            if looks >= 2:
                waiting.set()
            raise

    world.handlers.keys.replay = counted  # type: ignore[method-assign]
    return waiting


async def test_a_repeat_while_the_first_is_charging_waits_for_its_outcome(world):
    await world.order_created()
    world.stripe.gate = asyncio.Event()
    first = asyncio.create_task(world.pay(key="k1"))
    await world.stripe.in_flight.wait()
    waiting = waiting_on_the_key(world)
    repeat = asyncio.create_task(world.pay(key="k1"))
    await asyncio.wait_for(waiting.wait(), 10)
    assert not repeat.done()  # not a CONFLICT with itself: it waits
    world.stripe.gate.set()
    assert await repeat == await first
    assert len(world.stripe.requests) == 1


async def test_another_input_under_a_key_being_charged_is_refused_before_any_charge(world):
    await world.order_created("o1")
    await world.order_created("o2")
    world.stripe.gate = asyncio.Event()
    first = asyncio.create_task(world.pay("o1", key="k1"))
    await world.stripe.in_flight.wait()
    with pytest.raises(IdempotencyKeyReused):
        await world.pay("o2", key="k1")
    world.stripe.gate.set()
    await first
    assert [r.order_id for r in world.stripe.requests] == ["o1"]


async def test_racing_repeats_of_one_key_charge_once_and_all_get_the_payment(world):
    await world.order_created()
    results = await asyncio.gather(*(world.pay(key="k1") for _ in range(10)))
    assert len({p.id for p in results}) == 1
    assert len(world.stripe.requests) == 1 and len(world.stripe.charged) == 1


async def test_a_claim_left_by_a_request_that_died_runs_out_with_its_lease(world):
    await world.order_created()
    # A request claimed the order and the key, and died before recording anything.
    use = KeyUse(BUYER, "k1", fingerprint("o1", "pm_card_visa"))
    now = world.clock.now()
    async with world.handlers.uow() as uow:
        lease = await uow.leases.get("o1")
        lease.claim("dead-request", now, LEASE)
        await uow.leases.save(lease)
        await uow.keys.save(IdempotencyRecord.claim(use, "dead-request", now, lease.until))
        await uow.commit()
    waiting = waiting_on_the_key(world)
    repeat = asyncio.create_task(world.pay(key="k1"))
    await asyncio.wait_for(waiting.wait(), 10)
    assert not repeat.done()  # it waits for an outcome that will never come...
    world.clock.advance(LEASE.total_seconds() + 1)
    payment = await repeat  # ...until the claim runs out with the lease
    assert payment.status is PaymentStatus.SUCCEEDED and len(world.stripe.charged) == 1


# -- two keys on one order: still one charge ---------------------------------------------------


async def test_two_keys_on_one_order_charge_once_and_the_second_is_a_conflict(world):
    await world.order_created()
    await world.pay(key="k1")
    with pytest.raises(Conflict, match=ALREADY_PAID):
        await world.pay(key="k2")
    assert len(world.stripe.requests) == 1
    assert f"{BUYER}/k2" not in world.db.keys  # a refusal without effect records nothing


# -- currency ----------------------------------------------------------------------------------


async def test_an_order_is_charged_in_its_currency_in_minor_units(world):
    await world.order_created(price="12.34", currency="EUR")
    payment = await world.pay()
    [request] = world.stripe.requests
    assert (request.amount_minor, request.currency_code) == (1234, "EUR")
    assert (payment.amount, payment.currency_code) == (Decimal("12.34"), "EUR")
    assert world.published(payments_pb2.ChargeCreated) == [
        payments_pb2.ChargeCreated(
            id=payment.id,
            order_id="o1",
            stripe_id="pi_fake1",
            amount=1234,
            currency_code="EUR",
            charges=payments_pb2.OrderCharges(quantity=1, subtotal=1234, total=1234, proceeds=1234),
        )
    ]


async def test_an_order_event_without_a_currency_is_usd(world):
    await world.order_created(price="5.00")
    payment = await world.pay()
    assert payment.currency_code == "USD" and world.stripe.requests[0].currency_code == "USD"


async def test_an_order_read_through_from_the_orders_service_keeps_its_currency(world):
    world.orders_service.place(Order("o9", BUYER, Decimal("7.50"), currency_code="GBP"))
    payment = await world.pay("o9")
    assert (payment.amount, payment.currency_code) == (Decimal("7.50"), "GBP")
    assert world.db.orders["o9"].currency_code == "GBP"


async def test_an_order_in_a_currency_payments_cannot_charge_is_refused_before_stripe(world):
    await world.order_created(currency="XTS")  # ISO 4217's code for testing
    with pytest.raises(Conflict, match="XTS"):
        await world.pay(key="k1")
    assert world.stripe.requests == [] and world.db.keys == {}


# -- BatchGetPayments by ids -------------------------------------------------------------------


async def test_batch_get_by_ids_returns_the_callers_payments_only(world):
    await world.order_created("o1")
    await world.order_created("o2")
    await world.order_created("o3", user="someone-else")
    p1, p2 = await world.pay("o1"), await world.pay("o2")
    other = await world.pay("o3", user="someone-else")

    found = await world.handlers.batch_get_payments(BUYER, [], [p2.id, other.id, "nope", p1.id])
    assert [p.id for p in found] == [p2.id, p1.id]
    # With order ids too: each payment once, those by order first.
    found = await world.handlers.batch_get_payments(BUYER, ["o1"], [p1.id, p2.id])
    assert [p.id for p in found] == [p1.id, p2.id]
    with pytest.raises(InvalidInput) as info:
        await world.handlers.batch_get_payments(BUYER, [], [f"p{n}" for n in range(501)])
    assert info.value.field == "ids"
