"""The orders service's word on whether orders were paid, for `ticketing migrate` only (the
service itself calls no other): OrdersService.BatchGetOrders, signed as the operators' `cli`."""

from __future__ import annotations

from common.grpc_client import ServiceChannel
from ticketing.orders.v1 import orders_pb2, orders_pb2_grpc

# OrderStatus values by the names the migration uses (ORDER_STATUS_COMPLETE: "COMPLETE").
_NAMES = {
    value.number: value.name.removeprefix("ORDER_STATUS_")
    for value in orders_pb2.DESCRIPTOR.enum_types_by_name["OrderStatus"].values
}


class GrpcOrderStatuses:
    def __init__(self, peer: ServiceChannel) -> None:
        self.peer = peer

    async def statuses_of(self, order_ids: list[str]) -> dict[str, str]:
        stub = orders_pb2_grpc.OrdersServiceStub(self.peer.channel)
        reply = await self.peer.call(
            stub.BatchGetOrders, orders_pb2.BatchGetOrdersRequest(ids=order_ids)
        )
        return {order.id: _NAMES.get(order.status, "UNSPECIFIED") for order in reply.orders}
