"""Orders expire on the orders service's own data too, not only on OrderExpired.

The expiration service's schedule lives in Redis, which may lose it (restarted without its data,
a failover). Orders is the authority on when an order is due (`expires_at`), so it expires what
is overdue by more than a grace itself, through the same `Order.expire` as OrderExpired. The
grace lets the precise path through the expiration service win in the common case.

Several replicas may sweep at once, and OrderExpired may arrive for an order swept here: each
order is expired in its own transaction with the versioned save, so the loser of a race runs
again (retry_transient), finds the order no longer open and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import timedelta

from common.clock import Clock
from common.retries import retry_transient
from svc_orders.service_layer.metrics import order_changed
from svc_orders.service_layer.unit_of_work import OrdersUnitOfWork

log = logging.getLogger(__name__)


class OrderExpiry:
    def __init__(
        self,
        uow: Callable[[], OrdersUnitOfWork],
        clock: Clock,
        grace: timedelta,
        batch_size: int = 100,
        concurrency: int = 8,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.grace = grace
        self.batch_size = batch_size
        self.concurrency = concurrency

    async def expire_overdue(self) -> int:
        """Expires open orders overdue by more than the grace, at most `batch_size` of them;
        returns how many this call cancelled (a batch left to another replica counts 0)."""
        due_before = self.clock.now() - self.grace
        async with self.uow() as uow:
            order_ids = await uow.orders.overdue_ids(due_before, self.batch_size)
        # A few at a time: after a lost schedule, many may be due at once. Replicas take the
        # batch in different orders, so they mostly expire different orders rather than race.
        random.shuffle(order_ids)
        slots = asyncio.Semaphore(self.concurrency)

        async def expire_one(order_id: str) -> bool:
            async with slots:
                return await self.expire(order_id)

        expired = sum(await asyncio.gather(*(expire_one(o) for o in order_ids)))
        if expired:
            log.info(
                "expired overdue orders that no OrderExpired had ended",
                extra={"count": expired, "grace_s": self.grace.total_seconds()},
            )
        return expired

    @retry_transient()
    async def expire(self, order_id: str) -> bool:
        """True if this call cancelled the order; False if it had ended meanwhile."""
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
            if order is None or not order.expire():
                return False
            await uow.orders.save(order)
            await uow.commit()
            order_changed(order, self.clock.now(), expired_by="sweep")
            return True
