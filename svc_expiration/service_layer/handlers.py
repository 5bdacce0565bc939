"""Scheduling orders' expiry, and firing OrderExpired when it falls due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from common import events, tracing
from common.clock import Clock
from common.errors import InvalidInput, NotFound
from svc_expiration.domain.model import Expiration, expired_event_id
from svc_expiration.service_layer.ports import Publish, Schedule
from ticketing.events.v1 import orders_pb2

log = logging.getLogger(__name__)

APP_ID = "expiration"


class ExpirationHandlers:
    def __init__(
        self,
        scheduler: Schedule,
        publish: Publish,
        clock: Clock,
        lease_seconds: float,
        batch_size: int = 100,
    ) -> None:
        self.scheduler = scheduler
        self.publish = publish
        self.clock = clock
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size

    async def schedule_expiry(self, order_id: str, expires_at: datetime) -> None:
        # The trace of the OrderCreated being handled: the order's OrderExpired continues it.
        trace_context = tracing.serialize_carrier(tracing.current_carrier())
        if await self.scheduler.schedule(order_id, expires_at, trace_context):
            log.info(
                "expiry scheduled",
                extra={"order_id": order_id, "expires_at": expires_at.isoformat()},
            )

    async def cancel_expiry(self, order_id: str) -> None:
        """The order ended otherwise (cancelled, paid): firing it would be harmless, but noise."""
        await self.scheduler.cancel(order_id, self.clock.now())

    async def get_expiration(self, order_id: str) -> Expiration:
        if not order_id:
            raise InvalidInput("orderId is required", field="orderId")
        expiration = await self.scheduler.get(order_id)
        if expiration is None:
            raise NotFound("No expiry is scheduled for this order", field="orderId")
        return expiration

    async def fire_due(self) -> int:
        """Claims due orders, publishes their OrderExpired (confirmed by the broker), then takes
        them off the schedule; returns how many fired. If publishing fails the orders are given
        back, to be claimed again on a later pass; a crash leaves them to the lease."""
        now = self.clock.now()
        order_ids = await self.scheduler.claim_due(now, now + self.lease, self.batch_size)
        if not order_ids:
            return 0
        try:
            traces = await self.scheduler.trace_contexts(order_ids)
            await self.publish(
                [
                    self._expired_doc(order_id, now, trace)
                    for order_id, trace in zip(order_ids, traces, strict=True)
                ]
            )
        except (Exception, asyncio.CancelledError):
            with contextlib.suppress(Exception):
                await self.scheduler.release(order_ids, self.clock.now())
            raise
        await self.scheduler.done(order_ids, self.clock.now())
        for order_id in order_ids:
            log.info("order expired", extra={"order_id": order_id})
        return len(order_ids)

    async def seconds_until_due(self, at_most: float) -> float:
        """How long the schedule can be left alone: until its next due time, but no longer than
        `at_most` (another replica may add an earlier one without waking this one)."""
        next_due = await self.scheduler.next_due()
        if next_due is None:
            return at_most
        wait = (next_due - self.clock.now()).total_seconds()
        return min(at_most, max(0.0, wait))

    def _expired_doc(self, order_id: str, now: datetime, trace_context: str) -> dict[str, Any]:
        event = orders_pb2.OrderExpired(order_id=order_id)
        doc = events.message_doc(event, expired_event_id(order_id), APP_ID, now)
        carrier = tracing.parse_carrier(trace_context)
        return {**doc, "trace": carrier} if carrier else doc
