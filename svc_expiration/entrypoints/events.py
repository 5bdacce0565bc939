"""The events expiration consumes, each translated into one handler call."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from google.protobuf.message import Message

from common.bus import Delivery, Handler, PoisonMessage
from common.protos import from_timestamp
from svc_expiration.service_layer.handlers import ExpirationHandlers
from ticketing.events.v1 import orders_pb2, payments_pb2


def event_handlers(
    handlers: ExpirationHandlers, on_scheduled: Callable[[], None]
) -> Mapping[type[Message], Handler]:
    async def on_order_created(event: orders_pb2.OrderCreated, delivery: Delivery) -> None:
        if not event.id or not event.HasField("expires_at"):
            # No retry can make it readable: to the dead queue at once.
            raise PoisonMessage("OrderCreated without id or expiresAt")
        await handlers.schedule_expiry(event.id, from_timestamp(event.expires_at))
        on_scheduled()

    async def on_order_cancelled(event: orders_pb2.OrderCancelled, delivery: Delivery) -> None:
        await handlers.cancel_expiry(event.id)

    async def on_charge_created(event: payments_pb2.ChargeCreated, delivery: Delivery) -> None:
        await handlers.cancel_expiry(event.order_id)

    return {
        orders_pb2.OrderCreated: on_order_created,
        orders_pb2.OrderCancelled: on_order_cancelled,
        payments_pb2.ChargeCreated: on_charge_created,
    }
