"""The delivery domain's events as the integration events consumers receive
(proto/ticketing/events/v1/delivery.proto): the one place they are mapped, when the unit of work
writes the outbox (`svc_delivery/adapters/unit_of_work.py`)."""

from __future__ import annotations

from google.protobuf.message import Message

from common.protos import timestamp
from svc_delivery.domain import events
from ticketing.events.v1 import delivery_pb2


def to_integration(event: events.Event) -> Message:
    match event:
        case events.DeliveryCompleted():
            return delivery_pb2.DeliveryCompleted(
                order_id=event.order_id,
                seller_id=event.seller_id,
                buyer_id=event.buyer_id,
                event_id=event.event_id,
                method=event.method.value,
                delivered_at=timestamp(event.delivered_at),
                quantity=event.quantity,
            )
        case events.DeliveryMissed():
            return delivery_pb2.DeliveryMissed(
                order_id=event.order_id,
                seller_id=event.seller_id,
                buyer_id=event.buyer_id,
                event_id=event.event_id,
                deliver_by=timestamp(event.deliver_by),
            )
        case events.DeliveryDeadlineApproaching():
            return delivery_pb2.DeliveryDeadlineApproaching(
                order_id=event.order_id,
                seller_id=event.seller_id,
                deliver_by=timestamp(event.deliver_by),
            )
    raise TypeError(f"no integration event for {event!r}")
