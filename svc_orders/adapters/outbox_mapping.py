"""The orders domain's events as the integration events consumers receive
(proto/ticketing/events/v1/orders.proto): the one place they are mapped, when the unit of work
writes the outbox (`svc_orders/adapters/unit_of_work.py`). Prices go as decimal strings, times
as Timestamps, statuses as ticketing.orders.v1's enum, a cancel reason as its name."""

from __future__ import annotations

from google.protobuf.message import Message

from common.money import format_money
from common.protos import timestamp
from svc_orders.domain import events
from svc_orders.proto_enums import status_proto
from ticketing.events.v1 import orders_pb2
from ticketing.tickets.v1 import tickets_pb2


def to_integration(event: events.Event) -> Message:
    match event:
        case events.OrderCreated():
            return orders_pb2.OrderCreated(
                id=event.id,
                version=event.version,
                status=status_proto(event.status),
                user_id=event.user_id,
                expires_at=timestamp(event.expires_at),
                ticket=orders_pb2.OrderCreated.Ticket(
                    id=event.ticket_id,
                    price=format_money(event.price),
                    currency_code=event.currency_code,
                    quantity=event.quantity,
                    seller_id=event.seller_id,
                    event_id=event.event_id,
                    delivery_method=_delivery_method(event.delivery_method),
                    deliver_by=None if event.deliver_by is None else timestamp(event.deliver_by),
                    seat_labels=list(event.seat_labels),
                ),
            )
        case events.OrderUpdated():
            return orders_pb2.OrderUpdated(
                id=event.id,
                version=event.version,
                status=status_proto(event.status),
                user_id=event.user_id,
            )
        case events.OrderCancelled():
            return orders_pb2.OrderCancelled(
                id=event.id,
                version=event.version,
                ticket=orders_pb2.OrderCancelled.Ticket(id=event.ticket_id),
                reason=event.reason.value,
                never_placed=event.never_placed,
            )
    raise TypeError(f"no integration event for {event!r}")


def _delivery_method(name: str) -> int:
    if not name:
        return tickets_pb2.DELIVERY_METHOD_UNSPECIFIED
    return tickets_pb2.DeliveryMethod.Value(f"DELIVERY_METHOD_{name}")
