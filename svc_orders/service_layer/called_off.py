"""An event called off (docs/design/marketplace.md, decision 3): when the catalogue cancels or
postpones an event, its unpaid orders end (EVENT_CALLED_OFF) and their OrderCancelled releases
their seats in tickets, as any other. Paid orders are refunds, the payments side's (issue 21).

Safe to run again on a redelivered EventStatusChanged: an order already ended changes nothing."""

from __future__ import annotations

from collections.abc import Callable

from common.clock import Clock
from common.delivery import Delivery
from common.retries import retry_transient
from svc_orders.service_layer.metrics import order_changed
from svc_orders.service_layer.unit_of_work import OrdersUnitOfWork
from ticketing.events.v1 import catalogue_pb2

CALLED_OFF = frozenset({"CANCELLED", "POSTPONED"})
BATCH = 100


class EventCallOff:
    def __init__(self, uow: Callable[[], OrdersUnitOfWork], clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def on_event_status_changed(
        self, event: catalogue_pb2.EventStatusChanged, delivery: Delivery
    ) -> None:
        if event.status not in CALLED_OFF:
            return
        while True:
            async with self.uow() as uow:
                order_ids = await uow.orders.open_ids_of_event(event.id, BATCH)
            for order_id in order_ids:
                await self._end(order_id)
            if len(order_ids) < BATCH:
                return

    @retry_transient()
    async def _end(self, order_id: str) -> None:
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
            if order is None or not order.event_called_off():
                return
            await uow.orders.save(order)
            await uow.commit()
        order_changed(order, self.clock.now())
