"""The orders service over gRPC, for an order whose OrderCreated has not reached us yet."""

from __future__ import annotations

from decimal import Decimal

from common.errors import NotFound
from common.grpc_client import ServiceChannel
from svc_payments.domain.currency import currency_or_default
from svc_payments.domain.model import Order, OrderStatus
from ticketing.orders.v1 import orders_pb2, orders_pb2_grpc

# Our copy knows whether an order can still be paid; AWAITING_PAYMENT is a charge of ours under
# way, still payable as far as the copy goes (the charge lease keeps a second charge out).
_STATUS = {
    orders_pb2.ORDER_STATUS_CREATED: OrderStatus.CREATED,
    orders_pb2.ORDER_STATUS_AWAITING_PAYMENT: OrderStatus.CREATED,
    orders_pb2.ORDER_STATUS_COMPLETE: OrderStatus.COMPLETE,
    orders_pb2.ORDER_STATUS_CANCELLED: OrderStatus.CANCELLED,
}


class GrpcOrderSource:
    def __init__(self, peer: ServiceChannel) -> None:
        self.peer = peer

    async def get_order(self, order_id: str, token: str | None) -> Order | None:
        stub = orders_pb2_grpc.OrdersServiceStub(self.peer.channel)
        try:
            reply = await self.peer.call(
                stub.GetOrder, orders_pb2.GetOrderRequest(id=order_id), token=token
            )
        except NotFound:
            return None
        order = reply.order
        status = _STATUS.get(order.status, OrderStatus.CREATED)
        # An orders service from before v1 sends no currency: USD, as everything was then.
        currency = currency_or_default(order.currency_code)
        # price is per ticket (an orders service from before issue 20 sends no quantity: one).
        quantity = order.quantity or 1
        subtotal = Decimal(order.price) * quantity
        return Order(
            order.id,
            order.user_id,
            subtotal,
            status,
            currency_code=currency,
            quantity=quantity,
            seller_id=order.seller_id,
            event_id=order.event_id,
            ticket_id=order.ticket_id,
        )
