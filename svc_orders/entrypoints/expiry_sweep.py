"""The timer that drives `OrderExpiry.expire_overdue`: a sweep as the process starts (orders
that fell due while no replica was running), then one every period; a full batch is followed by
the next at once. A failed sweep (MongoDB unreachable) is logged and tried again next period."""

from __future__ import annotations

import asyncio
import logging

from svc_orders.service_layer.expiry import OrderExpiry

log = logging.getLogger(__name__)


class ExpirySweep:
    def __init__(self, expiry: OrderExpiry, period_seconds: float) -> None:
        self.expiry = expiry
        self.period = period_seconds

    async def run(self) -> None:
        while True:
            try:
                expired = await self.expiry.expire_overdue()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                expired = 0
                log.warning(
                    "could not sweep overdue orders, will retry",
                    extra={"error": f"{type(exc).__name__}: {exc}", "retry_in_s": self.period},
                )
            if expired < self.expiry.batch_size:
                await asyncio.sleep(self.period)
