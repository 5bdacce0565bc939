"""The timer that drives `DeadlineSweep.sweep_due`: a sweep as the process starts (deadlines that
passed while no replica was running), then one every DELIVERY_SWEEP_SECONDS; a full batch is
followed by the next at once. A failed sweep (MongoDB unreachable) is logged and tried again
next period."""

from __future__ import annotations

import asyncio
import logging

from svc_delivery.service_layer.sweep import DeadlineSweep

log = logging.getLogger(__name__)


class DeadlineSweepTimer:
    def __init__(self, sweep: DeadlineSweep, period_seconds: float) -> None:
        self.sweep = sweep
        self.period = period_seconds

    async def run(self) -> None:
        while True:
            try:
                looked_at = await self.sweep.sweep_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                looked_at = 0
                log.warning(
                    "could not sweep delivery deadlines, will retry",
                    extra={"error": f"{type(exc).__name__}: {exc}", "retry_in_s": self.period},
                )
            if looked_at < self.sweep.batch_size:
                await asyncio.sleep(self.period)
