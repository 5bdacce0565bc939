"""The orders service over gRPC: where a seller's edit is settled against orders."""

from __future__ import annotations

from common.grpc_client import ServiceChannel
from common.money import format_money
from svc_tickets.service_layer.ports import TicketEdit
from ticketing.orders.v1 import orders_pb2, orders_pb2_grpc


class GrpcHoldAuthority:
    def __init__(self, peer: ServiceChannel) -> None:
        self.peer = peer

    async def apply_edit(self, edit: TicketEdit, token: str | None) -> None:
        stub = orders_pb2_grpc.OrdersServiceStub(self.peer.channel)
        request = orders_pb2.ApplyTicketEditRequest(
            ticket_id=edit.ticket_id,
            version=edit.version,
            title=edit.title,
            price=format_money(edit.price),
            withdraw=edit.withdraw,
        )
        await self.peer.call(stub.ApplyTicketEdit, request, token=token)
