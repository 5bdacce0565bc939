"""The payments domain's events as the integration events consumers receive
(proto/ticketing/events/v1/payments.proto): the one place they are mapped, when the unit of work
writes the outbox (`svc_payments/adapters/unit_of_work.py`). Amounts go in the currency's minor
units (cents), as Stripe counts them."""

from __future__ import annotations

from google.protobuf.message import Message

from svc_payments.domain import events
from svc_payments.domain.currency import to_minor
from svc_payments.domain.fees import FeeQuote
from ticketing.events.v1 import payments_pb2


def charges_to_proto(quote: FeeQuote) -> payments_pb2.OrderCharges:
    return payments_pb2.OrderCharges(
        quantity=quote.quantity,
        subtotal=quote.subtotal,
        buyer_fees=quote.buyer_fees,
        total=quote.total,
        commission=quote.commission,
        proceeds=quote.proceeds,
    )


def to_integration(event: events.Event) -> Message:
    match event:
        case events.ChargeCreated():
            created = payments_pb2.ChargeCreated(
                id=event.id,
                order_id=event.order_id,
                stripe_id=event.stripe_id,
                amount=to_minor(event.amount, event.currency_code),
                currency_code=event.currency_code,
            )
            if event.charges is not None:
                created.charges.CopyFrom(charges_to_proto(event.charges))
            return created
        case events.ChargePending():
            return payments_pb2.ChargePending(
                id=event.id,
                order_id=event.order_id,
                stripe_id=event.stripe_id,
                amount=to_minor(event.amount, event.currency_code),
                currency_code=event.currency_code,
            )
        case events.ChargeFailed():
            return payments_pb2.ChargeFailed(order_id=event.order_id, reason=event.reason)
        case events.PayoutPaid():
            return payments_pb2.PayoutPaid(
                id=event.id,
                order_id=event.order_id,
                seller_id=event.seller_id,
                transfer_id=event.transfer_id,
                amount=event.amount_minor,
                currency_code=event.currency_code,
            )
        case events.RefundIssued():
            return payments_pb2.RefundIssued(
                id=event.id,
                order_id=event.order_id,
                buyer_id=event.buyer_id,
                stripe_refund_id=event.stripe_refund_id,
                amount=event.amount_minor,
                currency_code=event.currency_code,
                reason=event.reason,
                origin=event.origin,
                seller_amount=event.seller_minor,
                platform_amount=event.platform_minor,
            )
        case events.DisputeOpened():
            return payments_pb2.DisputeOpened(
                id=event.id,
                order_id=event.order_id,
                amount=event.amount_minor,
                currency_code=event.currency_code,
                reason=event.reason,
                status=event.status,
            )
        case events.DisputeClosed():
            return payments_pb2.DisputeClosed(
                id=event.id,
                order_id=event.order_id,
                status=event.status,
                amount=event.amount_minor,
                currency_code=event.currency_code,
            )
    raise TypeError(f"no integration event for {event!r}")
