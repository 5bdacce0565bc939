"""The deadlines' clock: deliveries whose next check has come (an index on `check_at`), each in
its own transaction with the delivery's version check, so replicas sweeping at once settle each
one once. A DUE delivery past its deadline is MISSED (DeliveryMissed, and the seller's record
counts it); one DELIVERY_REMINDER_BEFORE_SECONDS before it is reminded of once
(DeliveryDeadlineApproaching)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from common.clock import Clock, stored_precision
from common.retries import retry_transient
from svc_delivery.domain.methods import DeliveryStatus
from svc_delivery.service_layer.unit_of_work import DeliveryUnitOfWork

log = logging.getLogger(__name__)


class DeadlineSweep:
    def __init__(
        self,
        uow: Callable[[], DeliveryUnitOfWork],
        clock: Clock,
        remind_before: timedelta,
        batch_size: int = 100,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.remind_before = remind_before
        self.batch_size = batch_size

    async def sweep_due(self) -> int:
        """Settles the deliveries whose check has come, at most `batch_size`; returns how many
        it looked at (a full batch: the timer sweeps again at once). One failing unexpectedly
        is logged and looked at again next time."""
        async with self.uow() as uow:
            order_ids = await uow.deliveries.due_ids(self._now(), self.batch_size)
        for order_id in order_ids:
            try:
                await self.check(order_id)
            except Exception:
                log.exception(
                    "a delivery's deadline could not be checked", extra={"order_id": order_id}
                )
        return len(order_ids)

    @retry_transient()
    async def check(self, order_id: str) -> DeliveryStatus | None:
        async with self.uow() as uow:
            now = self._now()
            delivery = await uow.deliveries.get(order_id)
            if delivery is None or delivery.check_at is None or delivery.check_at > now:
                return None  # settled by another replica meanwhile
            delivery.sweep(now, self.remind_before)
            await uow.deliveries.save(delivery)
            if delivery.status is DeliveryStatus.MISSED:
                await uow.sellers.count(delivery.seller_id, missed=1)
            await uow.commit()
            return delivery.status

    def _now(self) -> datetime:
        return stored_precision(self.clock.now())
