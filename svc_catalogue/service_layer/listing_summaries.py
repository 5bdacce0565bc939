"""The summary of each event's listings, kept from listings' events (`ticket.created`,
`ticket.updated`): per listing its event, price, currency and seats for sale, in version order;
then the event's lowest price and tickets for sale recomputed on its document (which takes a
new sequence number there, so search follows). A listing with no event (a v1 ticket) is ignored.

One replica applies them one at a time: every apply takes the next number of the one sequence
counter, so concurrent applies only conflict there and run again (with the consumer's 32
messages at once, the bench's seeding applied 4 listing events a second); across replicas the
conflict and its retry remain.

Idempotent like every consumer: a redelivered event id changes nothing, and an event not newer
than the listing's stored version (one that overtook it was applied first) is skipped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal

from common.delivery import Delivery
from common.retries import retry_transient
from svc_catalogue.domain.listings import Listing, summarise
from svc_catalogue.service_layer.unit_of_work import CatalogueUnitOfWork
from ticketing.events.v1 import tickets_pb2

log = logging.getLogger(__name__)


class ListingSummaryHandlers:
    def __init__(self, uow: Callable[[], CatalogueUnitOfWork]) -> None:
        self.uow = uow
        self._one_at_a_time = asyncio.Lock()

    async def on_ticket_created(self, event: tickets_pb2.TicketCreated, delivery: Delivery) -> None:
        await self._apply(
            event.id, event.event_id, event.price, event.currency_code, event.available,
            event.version, delivery=delivery,
        )  # fmt: skip

    async def on_ticket_updated(self, event: tickets_pb2.TicketUpdated, delivery: Delivery) -> None:
        available = 0 if event.withdrawn else event.available
        await self._apply(
            event.id, event.event_id, event.price, event.currency_code, available,
            event.version, delivery=delivery,
        )  # fmt: skip

    async def _apply(self, *change, delivery: Delivery) -> None:
        async with self._one_at_a_time:
            await self._apply_alone(*change, delivery=delivery)

    @retry_transient()
    async def _apply_alone(
        self,
        listing_id: str,
        event_id: str,
        price: str,
        currency_code: str,
        available: int,
        version: int,
        delivery: Delivery,
    ) -> None:
        if not event_id:
            return  # a v1 ticket: no catalogue event to summarise
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            stored = await uow.listings.get(listing_id)
            if stored is not None and stored.version >= version:
                await uow.commit()  # an older change, arrived late: the newer one stands
                return
            listing = Listing(
                listing_id, event_id, Decimal(price or "0"), currency_code, max(available, 0),
                version,
            )  # fmt: skip
            await uow.listings.put(listing)
            touched = {event_id} | ({stored.event_id} if stored else set())
            for summarised in sorted(touched):
                summary = summarise(await uow.listings.of_event(summarised))
                if not await uow.events.set_summary(summarised, summary):
                    log.warning(
                        "a listing names an event the catalogue does not have",
                        extra={"listing_id": listing_id, "event_id": summarised},
                    )
            await uow.commit()

    @property
    def event_handlers(self) -> dict[type, Callable[..., Awaitable[None]]]:
        return {
            tickets_pb2.TicketCreated: self.on_ticket_created,
            tickets_pb2.TicketUpdated: self.on_ticket_updated,
        }
