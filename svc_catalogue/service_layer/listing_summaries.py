"""The summary of each event's listings, kept from listings' events (`ticket.created`,
`ticket.updated`): per listing its event, price, currency and seats for sale, in version order;
then the event's lowest price and tickets for sale recomputed on its document (which takes a
new sequence number there, so search follows). A listing with no event (a v1 ticket) is ignored.

The listing events the consumer holds at once (up to EVENT_PREFETCH) are applied together, in
one transaction: every event they touch summarised once, its sequence numbers taken in one
increment of the one counter. Taking the next number per listing event made the counter the
bottleneck: applied one at a time, the bench's seeding reached 11-18 a second (each apply one
transaction of seven statements); concurrent applies only conflicted there and ran again. A batch
starts as soon as the one before it committed, with whatever arrived meanwhile, so a lone change
waits for nobody. Across replicas batches still conflict on the counter and run again.

Idempotent like every consumer, by the listing's version alone: the tickets service gives a
listing version 0 when it is created and the next version with every change (an edit, seats
held, released or sold, a withdrawal: all `ticket.updated`; a listing is never deleted), saved
with an optimistic check, so one version is one state. A change not newer than the listing's
stored version is skipped: a redelivered event (the same version) and one that a newer change
overtook both change nothing, and a batch of only such events writes nothing. (No inbox record
per message: it said nothing the version does not, and cost 18 % of a batch, bench/README.md.)
A batch that fails for another reason than a lost conflict or an outage is applied again one
event at a time, so only the event at fault fails (and is retried or dead-lettered by the
consumer)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from common.delivery import Delivery
from common.retries import is_outage, is_transient, retry_transient
from svc_catalogue.domain.listings import Listing, newest_changes, summarise
from svc_catalogue.service_layer.unit_of_work import CatalogueUnitOfWork
from ticketing.events.v1 import tickets_pb2

log = logging.getLogger(__name__)

MAX_BATCH = 256


@dataclass
class _Pending:
    listing: Listing
    done: asyncio.Future[None]


class ListingSummaryHandlers:
    def __init__(self, uow: Callable[[], CatalogueUnitOfWork], max_batch: int = MAX_BATCH) -> None:
        self.uow = uow
        self.max_batch = max_batch
        self._pending: list[_Pending] = []
        self._applying: asyncio.Task[None] | None = None

    async def on_ticket_created(self, event: tickets_pb2.TicketCreated, delivery: Delivery) -> None:
        await self._apply(
            event.id, event.event_id, event.price, event.currency_code, event.available,
            event.version,
        )  # fmt: skip

    async def on_ticket_updated(self, event: tickets_pb2.TicketUpdated, delivery: Delivery) -> None:
        available = 0 if event.withdrawn else event.available
        await self._apply(
            event.id, event.event_id, event.price, event.currency_code, available,
            event.version,
        )  # fmt: skip

    async def _apply(
        self,
        listing_id: str,
        event_id: str,
        price: str,
        currency_code: str,
        available: int,
        version: int,
    ) -> None:
        """Returns once the change is committed (with the batch it joined)."""
        if not event_id:
            return  # a v1 ticket: no catalogue event to summarise
        listing = Listing(
            listing_id, event_id, Decimal(price or "0"), currency_code, max(available, 0), version
        )
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(listing, done))
        if self._applying is None or self._applying.done():
            self._applying = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                await self._apply_batch(batch)
            except Exception as exc:
                if len(batch) == 1 or is_transient(exc) or is_outage(exc):
                    _settle(batch, exc)
                    continue
                log.warning("a batch of listing events failed: applying them one at a time")
                for one in batch:
                    try:
                        await self._apply_batch([one])
                    except Exception as alone:
                        _settle([one], alone)
                    else:
                        _settle([one])
            else:
                _settle(batch)

    @retry_transient()
    async def _apply_batch(self, batch: list[_Pending]) -> None:
        async with self.uow() as uow:
            changes = [p.listing for p in batch]
            stored = await uow.listings.many(sorted({c.id for c in changes}))
            newer = newest_changes(changes, stored)
            if not newer:
                return  # every one redelivered or overtaken: nothing to write
            await uow.listings.put_many(newer)
            touched = {c.event_id for c in newer} | {
                stored[c.id].event_id for c in newer if c.id in stored
            }
            listings = await uow.listings.of_events(sorted(touched))
            summaries = {event_id: summarise(rows) for event_id, rows in listings.items()}
            for missing in sorted(await uow.events.set_summaries(summaries)):
                log.warning(
                    "a listing names an event the catalogue does not have",
                    extra={"event_id": missing},
                )
            await uow.commit()

    @property
    def event_handlers(self) -> dict[type, Callable[..., Awaitable[None]]]:
        return {
            tickets_pb2.TicketCreated: self.on_ticket_created,
            tickets_pb2.TicketUpdated: self.on_ticket_updated,
        }


def _settle(batch: list[_Pending], error: BaseException | None = None) -> None:
    for pending in batch:
        if pending.done.done():
            continue  # its handler was cancelled (the consumer stopping): redelivered later
        if error is None:
            pending.done.set_result(None)
        else:
            pending.done.set_exception(error)
