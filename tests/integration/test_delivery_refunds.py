"""What a delivery's end does to the money (issue 22), over real gRPC with SecantusDB, RabbitMQ
and the Stripe stand-in: delivery.missed, published as delivery publishes it (twice), refunds the
paid order in full once (origin DELIVERY_MISSED, Stripe key refund_<order>_delivery_missed),
reverses the seller's payout and leaves the order's ledger at zero; under
PAYOUT_POLICY=after_delivery a payout has no due time until delivery.completed makes it due."""

from __future__ import annotations

import pytest

from tests.integration.test_refunds import (
    TOTAL,
    Payments,
    api_base,  # noqa: F401 (the stand-in's fixture)
    at_zero,
    running_payments,
)
from ticketing.events.v1 import delivery_pb2
from ticketing.payments.v1 import payments_pb2

pytestmark = pytest.mark.integration


async def refunds_of(payments: Payments, order_id: str) -> list[payments_pb2.Refund]:
    request = payments_pb2.ListRefundsRequest(order_ids=[order_id])
    reply = await payments.stub.ListRefunds(request, metadata=payments.as_admin())
    return list(reply.refunds)


async def test_a_missed_delivery_refunds_the_order_in_full_once(env, api_base):  # noqa: F811
    async with running_payments(env, api_base) as payments:
        paid = await payments.paid_order()
        missed = delivery_pb2.DeliveryMissed(
            order_id=paid.order_id, seller_id=paid.seller, buyer_id=paid.buyer
        )
        payments.publish(missed)
        payments.publish(missed)  # heard again (a redelivery, a replay)

        async def refunded():
            found = await refunds_of(payments, paid.order_id)
            return found if found and found[0].state == "SUCCEEDED" else None

        [refund] = await payments.eventually(refunded)
        assert (refund.origin, refund.amount, refund.currency_code) == (
            "DELIVERY_MISSED",
            TOTAL,
            "EUR",
        )
        [at_stripe] = payments.stripe_refunds(paid.intent_id)
        assert (at_stripe["id"], at_stripe["amount"]) == (refund.stripe_refund_id, TOTAL)
        payout = await payments.payout(paid.order_id)
        assert (payout["status"], payout["transfer_id"]) == ("REVERSED", "")
        assert at_zero(await payments.ledger_of(paid.order_id))

        # A third hearing, once the others are done, makes no second refund either.
        payments.publish(missed)
        sentinel = await payments.paid_order()
        payments.publish(
            delivery_pb2.DeliveryMissed(order_id=sentinel.order_id, seller_id=sentinel.seller)
        )
        await payments.eventually(lambda: refunds_of(payments, sentinel.order_id))
        assert len(await refunds_of(payments, paid.order_id)) == 1
        assert len(payments.stripe_refunds(paid.intent_id)) == 1


async def test_after_delivery_a_payout_falls_due_when_the_order_is_delivered(env, api_base):  # noqa: F811
    async with running_payments(env, api_base, PAYOUT_POLICY="after_delivery") as payments:
        paid = await payments.paid_order()
        assert (await payments.payout(paid.order_id))["due_at"] is None
        payments.publish(
            delivery_pb2.DeliveryCompleted(
                order_id=paid.order_id, seller_id=paid.seller, buyer_id=paid.buyer
            )
        )

        async def due():
            payout = await payments.payout(paid.order_id)
            return payout if payout["due_at"] is not None else None

        payout = await payments.eventually(due)
        assert payout["status"] in ("SCHEDULED", "WAITING_FOR_ONBOARDING")
