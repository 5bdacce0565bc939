"""The refund worker: a loop in the payments process that walks cancelled events' refund runs
(service_layer/refund_runs.py), each a batch at a time, resumed where its cursor is after a
restart."""

from __future__ import annotations

import asyncio
import logging

from common.errors import AppError
from svc_payments.service_layer.refund_runs import RefundRuns

log = logging.getLogger(__name__)


async def walk_refund_runs(runs: RefundRuns, poll_seconds: float) -> None:
    while True:
        try:
            for run_id in await runs.running_ids():
                while await runs.step(run_id):
                    pass
        except AppError as exc:  # Stripe unreachable, a payout being made: the next round
            log.warning("refund runs paused", extra={"error": exc.message})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("refund runs failed")
        await asyncio.sleep(poll_seconds)
