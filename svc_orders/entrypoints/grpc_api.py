"""gRPC OrdersService: requests to commands, orders to messages."""

from __future__ import annotations

import grpc

from common.grpc_server import current_user
from common.money import format_money
from common.protos import timestamp
from svc_orders.domain.model import Order
from svc_orders.proto_enums import cancel_reason_proto, status_proto
from svc_orders.service_layer.handlers import CancelOrder, CreateOrder, OrderHandlers
from ticketing.orders.v1 import orders_pb2, orders_pb2_grpc


def order_to_proto(order: Order) -> orders_pb2.Order:
    return orders_pb2.Order(
        id=order.id,
        status=status_proto(order.status),
        expires_at=timestamp(order.expires_at),
        user_id=order.user_id,
        version=order.version,
        ticket_id=order.ticket_id,
        price=format_money(order.price),
        create_time=timestamp(order.created_at),
        cancel_reason=cancel_reason_proto(order.cancel_reason),
        currency_code=order.currency_code,
        quantity=order.quantity,
        total=format_money(order.total),
        seats=list(order.seats),
        seat_labels=list(order.seat_labels),
        event_id=order.event_id,
        seller_id=order.seller_id,
    )


class OrdersServicer(orders_pb2_grpc.OrdersServiceServicer):
    def __init__(self, handlers: OrderHandlers) -> None:
        self.handlers = handlers

    async def CreateOrder(self, request, context):
        placed = await self.handlers.create_order(
            CreateOrder(
                current_user().user_id,
                request.ticket_id,
                request.idempotency_key,
                request.quantity or 1,
            )
        )
        response = orders_pb2.CreateOrderResponse(order=order_to_proto(placed.order))
        if placed.held_listing:
            response.held_ticket.ParseFromString(placed.held_listing)
        return response

    async def CancelOrder(self, request, context):
        order = await self.handlers.cancel_order(CancelOrder(current_user().user_id, request.id))
        return orders_pb2.CancelOrderResponse(order=order_to_proto(order))

    async def GetOrder(self, request, context):
        order = await self.handlers.get_order(current_user().user_id, request.id)
        return orders_pb2.GetOrderResponse(order=order_to_proto(order))

    async def ListOrders(self, request, context):
        listed = await self.handlers.list_orders(
            current_user().user_id,
            request.page_size,
            request.page_token,
            request.before_page_token,
            request.backward,
            request.include_total_count,
        )
        page = listed.page
        return orders_pb2.ListOrdersResponse(
            orders=[order_to_proto(o) for o in page.items],
            next_page_token=page.next_token,
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            total_count=listed.total_count or 0,
        )

    async def BatchGetOrders(self, request, context):
        orders = await self.handlers.batch_get(list(request.ids))
        return orders_pb2.BatchGetOrdersResponse(orders=[order_to_proto(o) for o in orders])

    async def ApplyTicketEdit(self, request, context):
        # Deprecated (issue 20): the tickets service decides a seller's edit itself.
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED,
            "No longer served: the tickets service decides its edits (TicketsService.HoldSeats)",
        )

    async def BatchGetTicketStates(self, request, context):
        # Deprecated (issue 20): a ticket's state is TicketsService's Ticket.state.
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED,
            "No longer served: read Ticket.state from TicketsService",
        )
