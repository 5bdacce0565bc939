"""The timer that drives `PayoutSweep.pay_due`: a sweep as the process starts (payouts that fell
due while no replica was running), then one every period; a full batch is followed by the next
at once. A failed sweep (MongoDB unreachable) is logged and tried again next period."""

from __future__ import annotations

import asyncio
import logging

from svc_payments.service_layer.payouts import PayoutSweep

log = logging.getLogger(__name__)


class PayoutSweepTimer:
    def __init__(self, sweep: PayoutSweep, period_seconds: float) -> None:
        self.sweep = sweep
        self.period = period_seconds

    async def run(self) -> None:
        while True:
            try:
                settled = await self.sweep.pay_due()
                await self.sweep.reverse_owed()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                settled = 0
                log.warning(
                    "could not sweep due payouts, will retry",
                    extra={"error": f"{type(exc).__name__}: {exc}", "retry_in_s": self.period},
                )
            if settled < self.sweep.batch_size:
                await asyncio.sleep(self.period)
