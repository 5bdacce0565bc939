"""Changes the gateway did not make itself reach its cache as tickets' events: a reservation or a
release by the orders flow, an edit through another gateway, a ticket listed elsewhere.

Every gateway process consumes the one durable queue `<ns>.gateway` (replicas and workers are
competing consumers: each event needs handling once, in the shared Redis). Handling is idempotent
by construction, a tombstone at a version being laid at most once, so no processed-id store is
needed. A Redis that is down makes the handler raise an outage: the event waits in the retry
queues (the bus's wait budget), it is not dead-lettered.
"""

from __future__ import annotations

from common.bus import Delivery, EventConsumer, consumer_for
from common.config import CommonSettings
from gateway.ticket_cache.store import TicketCache
from ticketing.events.v1 import tickets_pb2 as ticket_events

QUEUE = "gateway"


class CacheInvalidation:
    def __init__(self, cache: TicketCache) -> None:
        self.cache = cache

    async def on_ticket_created(self, event: ticket_events.TicketCreated, _: Delivery) -> None:
        # Nothing cached can be older than a new ticket; the pages may lack it.
        await self.cache.invalidate_pages()

    async def on_ticket_updated(self, event: ticket_events.TicketUpdated, _: Delivery) -> None:
        await self.cache.bury(event.id, event.version)


class CacheEvents:
    """The invalidation consumer of a gateway process; nothing without a cache. Started and
    stopped with the app, on its event loop."""

    def __init__(self, settings: CommonSettings, cache: TicketCache | None) -> None:
        self.settings = settings
        self.cache = cache
        self.consumer: EventConsumer | None = None

    def start(self) -> None:
        if self.cache is None:
            return
        invalidation = CacheInvalidation(self.cache)
        self.consumer = consumer_for(
            self.settings,
            QUEUE,
            {
                ticket_events.TicketCreated: invalidation.on_ticket_created,
                ticket_events.TicketUpdated: invalidation.on_ticket_updated,
            },
        )
        self.consumer.start()

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None
