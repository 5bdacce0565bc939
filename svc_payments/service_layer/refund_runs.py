"""A cancelled event's refund run (domain/refund_runs.py): opened in the transaction that records
the cancellation (`open_run_in`, called by payments' event copy, service_layer/event_copy.py),
walked by the refund worker one batch at a time (`step`), listed for admins.

One batch: (1) one transaction makes the run's refund of each order in the batch (APPROVED, of
all that is left, the id `<order>_event_<event>`) unless the order is refunded in full already
(skipped) or the run made it before (a batch replayed after a crash); (2) each refund not made
yet is carried out (service_layer/refunds.py) as the token bucket allows; (3) one transaction
moves the cursor past the batch with its counts. A crash anywhere replays the batch: the same
refunds, the same Stripe keys, the counts moved once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime

from common.clock import Clock, stored_precision
from common.errors import Unavailable
from common.retries import retry_transient
from svc_payments.domain.model import PaymentStatus
from svc_payments.domain.refund_runs import RefundRun, RunState, TokenBucket, run_refund_id
from svc_payments.domain.refunds import RefundOrigin, RefundState, left_to_refund
from svc_payments.service_layer.refunds import LIST_DEFAULT, LIST_MOST, Caller, RefundHandlers
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

log = logging.getLogger(__name__)

EVENT_CANCELLED_REASON = "The event was cancelled"


async def open_run_in(uow: PaymentsUnitOfWork, event_id: str, now: datetime) -> RefundRun | None:
    """The event is cancelled: its refund run, in the caller's transaction; None when it has one
    already (the cancellation heard again)."""
    if await uow.refund_runs.get(event_id) is not None:
        return None
    total = await uow.refund_runs.count_paid_orders(event_id)
    run = RefundRun(event_id, event_id, now, total=total)
    await uow.refund_runs.add(run)
    log.info("refund run opened", extra={"event_id": event_id, "orders": total})
    return run


class RefundRuns:
    def __init__(
        self,
        uow: Callable[[], PaymentsUnitOfWork],
        refunds: RefundHandlers,
        clock: Clock,
        rate_per_second: float,
        batch: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.uow = uow
        self.refunds = refunds
        self.clock = clock
        self.batch = batch
        self.monotonic = monotonic
        self.bucket = TokenBucket(rate_per_second, max(1.0, rate_per_second), monotonic())

    def _now(self) -> datetime:
        return stored_precision(self.clock.now())

    # -- the worker ---------------------------------------------------------------------------

    async def running_ids(self) -> list[str]:
        async with self.uow() as uow:
            return await uow.refund_runs.running_ids(100)

    async def step(self, run_id: str) -> bool:
        """One batch of the run; False when the run is over."""
        batch = await self._prepare(run_id)
        if batch is None:
            return False
        for refund_id in batch.to_make:
            await asyncio.sleep(self.bucket.wait(self.monotonic()))
            try:
                await self.refunds.carry_out(refund_id)
            except Unavailable:
                # Stripe (or the payout) cannot be dealt with now: the batch is walked again
                # later, with the same refunds.
                log.warning("refund run paused", extra={"run_id": run_id, "refund": refund_id})
                raise
        await self._advance(run_id, batch)
        return True

    @retry_transient()
    async def _prepare(self, run_id: str) -> _Batch | None:
        async with self.uow() as uow:
            now = self._now()
            run = await uow.refund_runs.get(run_id)
            if run is None or run.state is RunState.DONE:
                return None
            order_ids = await uow.refund_runs.paid_orders_after(
                run.event_id, run.cursor, self.batch
            )
            if not order_ids:
                run.finish(now)
                await uow.refund_runs.save(run)
                await uow.commit()
                log.info("refund run done", extra={"run_id": run.id, "done": run.done})
                return None
            batch = _Batch(order_ids[-1])
            for order_id in order_ids:
                refund_id = run_refund_id(order_id, run.event_id)
                made = await uow.refunds.get(refund_id)
                if made is not None:
                    batch.refunds.append(refund_id)
                    if made.state is RefundState.APPROVED:
                        batch.to_make.append(refund_id)
                    continue
                order = await uow.orders.get(order_id)
                payment = await uow.payments.for_order(order_id)
                assert order is not None
                if payment is None or payment.status is not PaymentStatus.SUCCEEDED:
                    batch.skipped += 1
                    continue
                left = left_to_refund(payment.amount_minor, await uow.refunds.of_order(order_id))
                if left <= 0:
                    batch.skipped += 1
                    continue
                refund = self.refunds.new_refund(
                    order,
                    payment,
                    left,
                    EVENT_CANCELLED_REASON,
                    RefundOrigin.EVENT_CANCELLED,
                    None,
                    now,
                    id=refund_id,
                )
                await uow.refunds.add(refund)
                batch.refunds.append(refund_id)
                batch.to_make.append(refund_id)
            await uow.commit()
            return batch

    @retry_transient()
    async def _advance(self, run_id: str, batch: _Batch) -> None:
        async with self.uow() as uow:
            run = await uow.refund_runs.get(run_id)
            assert run is not None, "a run is never deleted"
            if run.state is RunState.DONE or batch.last <= run.cursor:
                return  # walked by another worker meanwhile
            states = [(await uow.refunds.get(r)) for r in batch.refunds]
            done = sum(1 for r in states if r is not None and r.state is RefundState.SUCCEEDED)
            failed = sum(1 for r in states if r is not None and r.state is RefundState.FAILED)
            run.advance(batch.last, done, failed, batch.skipped)
            await uow.refund_runs.save(run)
            await uow.commit()

    # -- ListRefundRuns ---------------------------------------------------------------------------

    async def list_runs(self, caller: Caller, limit: int) -> list[RefundRun]:
        caller.check_admin()
        limit = min(max(limit, 0), LIST_MOST) or LIST_DEFAULT
        async with self.uow() as uow:
            return await uow.refund_runs.newest(limit)


class _Batch:
    def __init__(self, last: str) -> None:
        self.last = last  # the cursor once the batch is walked
        self.refunds: list[str] = []  # the run's refunds of the batch
        self.to_make: list[str] = []  # of those, the ones not made yet
        self.skipped = 0
