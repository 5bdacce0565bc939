"""Orders' events as the delivery service's commands: the consumer's handlers
(`event_handlers`, registered by `bootstrap.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from common.delivery import Delivery as Message
from common.protos import from_timestamp
from svc_delivery.domain.methods import method_or_default
from svc_delivery.service_layer.commands import OpenDelivery
from svc_delivery.service_layer.order_events import OrderEvents
from ticketing.events.v1 import orders_pb2
from ticketing.orders.v1 import orders_pb2 as orders_api


class OrderEventConsumer:
    def __init__(self, orders: OrderEvents) -> None:
        self.orders = orders

    async def on_order_created(self, event: orders_pb2.OrderCreated, message: Message) -> None:
        ticket = event.ticket
        deliver_by = from_timestamp(ticket.deliver_by) if ticket.HasField("deliver_by") else None
        await self.orders.open(
            OpenDelivery(
                order_id=event.id,
                order_version=event.version,
                buyer_id=event.user_id,
                seller_id=ticket.seller_id,
                listing_id=ticket.id,
                event_id=ticket.event_id,
                method=method_or_default(ticket.delivery_method),
                deliver_by=deliver_by,
                quantity=ticket.quantity or 1,
                seat_labels=tuple(ticket.seat_labels),
                created_at=message.occurred_at,
            ),
            message,
        )

    async def on_order_updated(self, event: orders_pb2.OrderUpdated, message: Message) -> None:
        if event.status != orders_api.ORDER_STATUS_COMPLETE:
            return  # awaiting payment: nothing is due yet
        await self.orders.paid(event.id, event.version, message)

    async def on_order_cancelled(self, event: orders_pb2.OrderCancelled, message: Message) -> None:
        await self.orders.cancelled(event.id, event.version, event.never_placed, message)

    @property
    def event_handlers(self) -> dict[type, Callable[..., Awaitable[None]]]:
        return {
            orders_pb2.OrderCreated: self.on_order_created,
            orders_pb2.OrderUpdated: self.on_order_updated,
            orders_pb2.OrderCancelled: self.on_order_cancelled,
        }
