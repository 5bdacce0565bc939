"""The reconciliation job: reads Stripe's balance transactions since its cursor and the ledger's
entries they and the window name, has domain/reconciliation.py judge them, and writes the report
and the next cursor in one transaction. It changes nothing else.

It runs every RECONCILIATION_INTERVAL_SECONDS in the payments process (`run_every`) and on
demand (ReconcileLedger; `ticketing reconcile`). Everything it depends on is given to it (the
unit of work, Stripe, the clock, the policy): `run(now=...)` judges the window that ends `grace`
before `now`, and `judge(window)` any window without touching the cursor or writing a report,
which a test (the chaos test, after each fault) asks as often as it likes.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

from common.clock import Clock
from common.errors import Conflict, Unavailable
from common.metrics.series import RECONCILIATION_DIFFERENCES, RECONCILIATION_RUNS
from svc_payments.domain.reconciliation import (
    BalanceTransaction,
    CursorMoved,
    Reconciliation,
    ReconciliationPolicy,
    ReconciliationReport,
    Window,
    entry_id_of,
    next_window,
    reconcile,
    unmatched_entries,
)
from svc_payments.service_layer.ports import StripeUnavailable
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

log = logging.getLogger(__name__)

SCHEDULE, ON_DEMAND = "schedule", "on_demand"
# Runs that find the cursor moved under them (another replica's run) start again, this often.
ATTEMPTS = 3


class BalanceTransactions(Protocol):
    """Stripe's balance transactions (adapters/stripe_balance.py over the SDK)."""

    async def created_since(self, since: datetime) -> list[BalanceTransaction]: ...

    async def of_source(self, source: str) -> list[BalanceTransaction]: ...


class LedgerReconciliation:
    def __init__(
        self,
        uow: Callable[[], PaymentsUnitOfWork],
        stripe: BalanceTransactions,
        clock: Clock,
        policy: ReconciliationPolicy,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.uow = uow
        self.stripe = stripe
        self.clock = clock
        self.policy = policy
        self.new_id = new_id
        # One run at a time in this process; another process's run is told apart by the cursor.
        self._running = asyncio.Lock()

    async def run(
        self, trigger: str = ON_DEMAND, now: datetime | None = None
    ) -> ReconciliationReport:
        """Judges the window after the last report's, up to `grace` before `now` (the clock's
        by default), and writes its report. Unavailable when Stripe cannot be asked; Conflict
        when other runs kept moving the cursor."""
        async with self._running:
            try:
                report = await self._run_until_written(trigger, now)
            except Exception:
                RECONCILIATION_RUNS.labels(trigger, "failed").inc()
                raise
        RECONCILIATION_RUNS.labels(trigger, "reported").inc()
        for kind, count in report.result.counts().items():
            RECONCILIATION_DIFFERENCES.labels(kind.value).set(count)
        return report

    async def _run_until_written(self, trigger: str, now: datetime | None) -> ReconciliationReport:
        for _ in range(ATTEMPTS):
            try:
                return await self._run_once(trigger, now or self.clock.now())
            except CursorMoved as moved:
                log.info("reconciliation: another run reported first", extra={"reason": str(moved)})
            except StripeUnavailable as exc:
                raise Unavailable("Stripe cannot be asked for its balance transactions") from exc
        raise Conflict("Other reconciliation runs kept writing their reports first; try again")

    async def judge(self, window: Window) -> Reconciliation:
        """Every pair with a side created in `window`, judged as a run would, with no cursor
        read or moved and no report written: what a test asks after each fault ("does the
        ledger agree with Stripe over all this?"), as often as it likes."""
        return await self._judge(window, {})

    async def _judge(self, window: Window, already: Mapping[str, datetime]) -> Reconciliation:
        listed = await self.stripe.created_since(window.start)
        async with self.uow() as uow:
            window_entries = await uow.ledger.created_between(window.start, window.end)
            named = sorted({i for i in map(entry_id_of, listed) if i is not None})
            by_id = {e.id: e for e in await uow.ledger.by_ids(named)}
        # An entry whose balance transaction is older than the window (or not listed yet) is
        # looked up by its source before it is called missing at Stripe: rare, one call each.
        for entry in unmatched_entries(window, listed, window_entries, already):
            listed += await self.stripe.of_source(entry.source)
        return reconcile(window, listed, window_entries, by_id, already)

    async def _run_once(self, trigger: str, now: datetime) -> ReconciliationReport:
        async with self.uow() as uow:
            cursor = await uow.reconciliations.cursor()
            first_entry = None if cursor else await uow.ledger.first_created()
        window = next_window(cursor, now, self.policy, first_entry)
        result = await self._judge(window, cursor.recent if cursor else {})
        report = ReconciliationReport(self.new_id(), now, trigger, result)
        async with self.uow() as uow:
            await uow.reconciliations.add(report, result.cursor_after(cursor, self.policy))
            await uow.commit()
        log.info(
            "reconciliation reported",
            extra={
                "report_id": report.id,
                "window_start": window.start.isoformat(),
                "window_end": window.end.isoformat(),
                "matched": result.matched,
                "differences": len(result.differences),
            },
        )
        for difference in result.differences:
            log.warning(
                "reconciliation difference",
                extra={
                    "report_id": report.id,
                    "kind": difference.kind.value,
                    "entry_id": difference.entry_id,
                },
            )
        return report

    async def run_every(self, interval_seconds: float) -> None:
        """A run every `interval_seconds`, the first one interval after start; a failed run
        is logged and counted, its window judged by the next (the cursor did not move)."""
        while True:
            await asyncio.sleep(interval_seconds)
            try:
                await self.run(SCHEDULE)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("reconciliation failed", extra={"error": str(exc)})
