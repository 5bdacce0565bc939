"""What the orders service tells its metrics: each status an order reaches (the purchase funnel)
and, for an expiry, how long after its expiresAt the order was cancelled."""

from __future__ import annotations

from datetime import datetime

from common.metrics import series
from svc_orders.domain.model import CancelReason, Order


def order_changed(order: Order, now: datetime, expired_by: str = "") -> None:
    """After the commit: `order` reached its status (and, cancelled, its reason); `expired_by`
    names the path of an expiry (order_expired: the expiration service's event; sweep: orders'
    own)."""
    reason = order.cancel_reason.value if order.cancel_reason else ""
    series.order_status_changed(order.status.value, reason)
    if order.cancel_reason is CancelReason.EXPIRED:
        series.order_expired_late(expired_by, (now - order.expires_at).total_seconds())
