"""The catalogue's events as the tickets service follows them (docs/design/marketplace.md,
decision 3): each event's start and status, kept in version order, decide whether its listings
may take a hold. A postponed or cancelled event's listings stop selling at once; a rescheduled
one's sell again until its new start. Open orders of a called-off event are the orders
service's to cancel (their OrderCancelled releases the seats, as any other)."""

from __future__ import annotations

from collections.abc import Callable

from common.delivery import Delivery
from common.protos import from_timestamp
from common.retries import retry_transient
from svc_tickets.domain.sales_window import SalesWindow
from svc_tickets.service_layer.unit_of_work import TicketsUnitOfWork
from ticketing.events.v1 import catalogue_pb2


class SalesWindowHandlers:
    def __init__(self, uow: Callable[[], TicketsUnitOfWork]) -> None:
        self.uow = uow

    async def on_event_changed(self, event: catalogue_pb2.EventChanged, delivery: Delivery) -> None:
        await self._apply(event.id, event.version, event.starts_at, event.status, delivery)

    async def on_event_status_changed(
        self, event: catalogue_pb2.EventStatusChanged, delivery: Delivery
    ) -> None:
        await self._apply(event.id, event.version, event.starts_at, event.status, delivery)

    @retry_transient()
    async def _apply(self, event_id: str, version: int, starts_at, status: str, delivery) -> None:
        """Both events carry the event's start and status at `version`: whichever comes, the
        newest version wins and an older one (a redelivery, one overtaken) changes nothing."""
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            window = await uow.tickets.window_of(event_id)
            starts = from_timestamp(starts_at)
            if window is None:
                await uow.tickets.save_window(SalesWindow(event_id, starts, status, version))
            elif window.apply(version, starts, status):
                await uow.tickets.save_window(window)
            await uow.commit()
