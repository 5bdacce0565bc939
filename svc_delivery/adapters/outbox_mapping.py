"""The delivery domain's events as the integration events consumers receive
(proto/ticketing/events/v1/delivery.proto): the one place they are mapped, when the unit of work
writes the outbox (`svc_delivery/adapters/unit_of_work.py`)."""

from __future__ import annotations

from google.protobuf.message import Message

from common.protos import timestamp
from svc_delivery.domain import events, pass_events
from ticketing.events.v1 import delivery_pb2

# A pass's changes that stay in the service: no other service acts on them.
NOT_PUBLISHED = (
    pass_events.PassTransferWithdrawn,
    pass_events.PassListedForResale,
    pass_events.PassResaleWithdrawn,
    pass_events.PassVoided,
)


def published(event: object) -> bool:
    return not isinstance(event, NOT_PUBLISHED)


def to_integration(event: events.Event | pass_events.Event) -> Message:
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
        case pass_events.PassIssued():
            return delivery_pb2.PassIssued(
                pass_id=event.pass_id,
                event_id=event.event_id,
                order_id=event.order_id,
                holder_id=event.holder_id,
                serial=event.serial,
            )
        case pass_events.PassTransferOffered():
            return delivery_pb2.PassTransferOffered(
                pass_id=event.pass_id,
                event_id=event.event_id,
                holder_id=event.holder_id,
                to_email=event.to_email,
            )
        case pass_events.PassReissued():
            return delivery_pb2.PassReissued(
                pass_id=event.pass_id,
                event_id=event.event_id,
                previous_holder_id=event.previous_holder_id,
                holder_id=event.holder_id,
                serial=event.serial,
                revoked_serial=event.revoked_serial,
                reason=event.reason.value,
            )
    raise TypeError(f"no integration event for {event!r}")
