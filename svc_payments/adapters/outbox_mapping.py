"""The payments domain's events as the integration events consumers receive
(proto/ticketing/events/v1/payments.proto): the one place they are mapped, when the unit of work
writes the outbox (`svc_payments/adapters/unit_of_work.py`). Amounts go in the currency's minor
units (cents), as Stripe counts them."""

from __future__ import annotations

from google.protobuf.message import Message

from svc_payments.domain import events
from svc_payments.domain.currency import to_minor
from ticketing.events.v1 import payments_pb2


def to_integration(event: events.Event) -> Message:
    match event:
        case events.ChargeCreated():
            return payments_pb2.ChargeCreated(
                id=event.id,
                order_id=event.order_id,
                stripe_id=event.stripe_id,
                amount=to_minor(event.amount, event.currency_code),
                currency_code=event.currency_code,
            )
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
