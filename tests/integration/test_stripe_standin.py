"""The benchmarks' Stripe stand-in (bench/stripe_standin.py), driven through the payments
service's real Stripe adapter: it must answer the way the SDK and the adapter expect, or the
purchase benchmark measures errors. Also the adapter's own concurrency: charges waiting on Stripe
are all in flight at once, not queued behind a fixed pool of threads."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import uvicorn

from bench.stripe_standin import StripeStandIn
from svc_payments.adapters.stripe_gateway import StripeApi
from svc_payments.service_layer.ports import (
    CardDeclined,
    ChargeRequest,
    IdempotencyMismatch,
    InvalidPaymentMethod,
)
from tests.support import servers

pytestmark = pytest.mark.integration


@pytest.fixture
async def standin() -> AsyncIterator[tuple[StripeStandIn, StripeApi]]:
    """The stand-in on a free port of this event loop, and the adapter pointed at it."""
    fake = StripeStandIn(latency_seconds=0.2)
    port = servers.free_port()
    server = uvicorn.Server(
        uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(250):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started, "the stand-in did not start"
        yield fake, StripeApi("sk_test_bench", f"http://127.0.0.1:{port}", timeout=10)
    finally:
        server.should_exit = True
        await serving


def charge(
    method: str = "pm_card_visa", cents: int = 2000, key: str | None = None, currency: str = "USD"
):
    order_id = str(uuid.uuid4())
    return ChargeRequest(order_id, "buyer-1", cents, currency, method, key or f"order-{order_id}")


@pytest.mark.parametrize("currency", ["USD", "EUR", "GBP"])
async def test_a_charge_succeeds_reads_back_and_refunds_once(standin, currency):
    fake, api = standin
    request = charge(cents=3550, currency=currency)
    intent = await api.charge(request)
    assert (intent.status, intent.amount, intent.currency, intent.order_id) == (
        "succeeded",
        3550,
        currency,
        request.order_id,
    )
    assert intent.id.startswith("pi_") and intent.client_secret.startswith(intent.id)
    assert await api.retrieve(intent.id) == intent
    refund_id = await api.refund(intent.id)
    assert refund_id.startswith("re_")
    # Refunding again changes nothing, and is no error: the same refund.
    assert await api.refund(intent.id) == refund_id
    assert fake.refunded == {intent.id}


async def test_a_charge_refunded_elsewhere_answers_that_refund(standin):
    """Refunded under another key (or after Stripe forgot ours): Stripe refuses a second refund,
    and the refund that was made is answered, for the ledger to name its entry by."""
    _, api = standin
    intent = await api.charge(charge())
    made = await api.client.v1.refunds.create_async(params={"payment_intent": intent.id})
    assert await api.refund(intent.id) == made.id


async def test_the_same_idempotency_key_replays_the_first_charge(standin):
    fake, api = standin
    request = charge()
    first = await api.charge(request)
    assert await api.charge(request) == first
    assert len(fake.intents) == 1
    with pytest.raises(IdempotencyMismatch):
        await api.charge(charge("pm_card_mastercard", key=request.idempotency_key))


async def test_declined_unknown_and_invalid(standin):
    _, api = standin
    with pytest.raises(CardDeclined) as declined:
        await api.charge(charge("pm_card_chargeCustomerFail"))
    assert declined.value.stripe_id.startswith("pi_")
    intent = await api.retrieve(declined.value.stripe_id)
    assert intent is not None and intent.status == "requires_payment_method"
    assert intent.failure == "Your card was declined."
    with pytest.raises(InvalidPaymentMethod):
        await api.charge(charge("tok_not_a_payment_method"))
    assert await api.retrieve("pi_unknown") is None
    needs_action = await api.charge(charge("pm_card_threeDSecure2Required"))
    assert needs_action.status == "requires_action"


async def test_charges_waiting_on_stripe_are_all_in_flight_at_once(standin):
    """More charges than the 16 threads the adapter used to have: none waits for another."""
    fake, api = standin
    intents = await asyncio.gather(*(api.charge(charge()) for _ in range(40)))
    assert {i.status for i in intents} == {"succeeded"}
    assert fake.most_in_flight == 40
