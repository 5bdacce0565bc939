"""The tickets service over gRPC: where an order's seats are held."""

from __future__ import annotations

from decimal import Decimal

from common.grpc_client import ServiceChannel
from common.money import LEGACY_CURRENCY
from common.protos import from_timestamp
from svc_orders.service_layer.ports import HeldSeats
from ticketing.tickets.v1 import tickets_pb2, tickets_pb2_grpc


class GrpcSeatHolder:
    def __init__(self, peer: ServiceChannel) -> None:
        self.peer = peer

    async def hold_seats(
        self, ticket_id: str, quantity: int, order_id: str, buyer: str
    ) -> HeldSeats:
        stub = tickets_pb2_grpc.TicketsServiceStub(self.peer.channel)
        request = tickets_pb2.HoldSeatsRequest(
            ticket_id=ticket_id, quantity=quantity, order_id=order_id, buyer_user_id=buyer
        )
        reply = await self.peer.call(stub.HoldSeats, request)
        return HeldSeats(
            tuple(reply.seats),
            Decimal(reply.price),
            reply.ticket.currency_code or LEGACY_CURRENCY,
            tuple(reply.seat_labels),
            reply.ticket.event_id,
            listing=reply.ticket.SerializeToString(),
            seller_id=reply.ticket.user_id,
            delivery_method=_method_name(reply.delivery_method),
            deliver_by=from_timestamp(reply.deliver_by) if reply.HasField("deliver_by") else None,
        )


def _method_name(value: int) -> str:
    if value == tickets_pb2.DELIVERY_METHOD_UNSPECIFIED:
        return ""
    return tickets_pb2.DeliveryMethod.Name(value).removeprefix("DELIVERY_METHOD_")
