"""The orders domain's enums as ticketing.orders.v1's proto enums: one place for the servicer's
replies (`entrypoints/grpc_api.py`) and the integration events (`adapters/outbox_mapping.py`)."""

from __future__ import annotations

from svc_orders.domain.model import CancelReason, OrderStatus
from ticketing.orders.v1 import orders_pb2


def status_proto(status: OrderStatus) -> orders_pb2.OrderStatus:
    return orders_pb2.OrderStatus.Value(f"ORDER_STATUS_{status.value}")


def cancel_reason_proto(reason: CancelReason | None) -> orders_pb2.CancelReason:
    if reason is None:
        return orders_pb2.CANCEL_REASON_UNSPECIFIED
    return orders_pb2.CancelReason.Value(f"CANCEL_REASON_{reason.value}")
