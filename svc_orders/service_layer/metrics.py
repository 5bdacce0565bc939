"""What the orders service tells its metrics: each status an order reaches (the purchase funnel)
and, for an expiry, how long after its expiresAt the order was cancelled."""

from __future__ import annotations

from datetime import datetime

from common.metrics import series
from svc_orders.domain.model import CancelReason, Order
from ticketing.events.v1 import orders_pb2


def cancel_reason(order: Order) -> str:
    """The reason of the cancellation among the order's pending events ('' if none); read before
    the commit, which takes the events."""
    return next((e.reason for e in order.events if isinstance(e, orders_pb2.OrderCancelled)), "")


def order_changed(order: Order, reason: str, now: datetime, expired_by: str = "") -> None:
    """After the commit: `order` reached its status; `expired_by` names the path of an expiry
    (order_expired: the expiration service's event; sweep: orders' own)."""
    series.order_status_changed(order.status.value, reason)
    if reason == CancelReason.EXPIRED:
        series.order_expired_late(expired_by, (now - order.expires_at).total_seconds())
