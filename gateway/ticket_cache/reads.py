"""How the gateway reads tickets: from its cache when it has them, otherwise from the tickets
service (the one authority on tickets), caching what it read. A cache that fails is done
without: the read goes to tickets, never fails because of Redis."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from redis.exceptions import RedisError

from common.metrics.series import TICKET_CACHE_BYPASSED, TICKET_CACHE_READS
from gateway.breaker import Breaker
from gateway.clients import ServiceClients
from gateway.paging import Window
from gateway.ticket_cache.store import TicketCache
from ticketing.tickets.v1 import tickets_pb2

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class TicketPage:
    """A page of ListTickets, newest first, and whether tickets exist after and before it."""

    tickets: list[tickets_pb2.Ticket]
    has_next: bool
    has_previous: bool
    next_token: str = ""


class TicketReads:
    """Ticket reads for the resolvers and the tickets DataLoader. Without a cache
    (TICKET_CACHE_ENABLED=false) each read is one gRPC call, as before there was one."""

    def __init__(
        self,
        clients: ServiceClients,
        cache: TicketCache | None,
        breaker: Breaker | None = None,
    ) -> None:
        self.clients = clients
        self.cache = cache
        self.breaker = breaker or Breaker()
        # hits and misses of each kind of read, and cache commands skipped or failed

    async def get(self, ticket_id: str) -> tickets_pb2.Ticket:
        """GetTicket: NOT_FOUND (not cached) for an unknown id."""
        cached = await self._read(lambda cache: cache.get_many([ticket_id]))
        if cached and ticket_id in cached:
            self._count("ticket", hits=1)
            return cached[ticket_id]
        self._count("ticket", misses=1)
        request = tickets_pb2.GetTicketRequest(id=ticket_id)
        ticket = (await self.clients.call(self.clients.tickets.GetTicket, request)).ticket
        await self._fill(lambda cache: cache.fill([ticket]))
        return ticket

    async def fresh(self, ticket_id: str) -> tickets_pb2.Ticket:
        """GetTicket from the tickets service, never from the cache, for a ticket this request
        has just changed there (an order's seats held): the cache learns of the change only
        from the TicketUpdated on its way. What is read is cached (a newer version replaces an
        older one), so other readers see it too."""
        request = tickets_pb2.GetTicketRequest(id=ticket_id)
        ticket = (await self.clients.call(self.clients.tickets.GetTicket, request)).ticket
        await self.heard(ticket)
        return ticket

    async def heard(self, ticket: tickets_pb2.Ticket) -> None:
        """A ticket as the tickets service answered it just now, to this gateway or to a service
        that relayed it (an order's seats held: orders' CreateOrder relays HoldSeats' answer):
        cached as a read of it would be (a newer version replaces an older one)."""
        await self._fill(lambda cache: cache.fill([ticket]))

    async def get_many(self, ticket_ids: Sequence[str]) -> list[tickets_pb2.Ticket | None]:
        """BatchGetTickets for the ones not cached; None for an unknown id."""
        found = await self._read(lambda cache: cache.get_many(ticket_ids)) or {}
        missing = [i for i in ticket_ids if i not in found]
        self._count("batch", hits=len(ticket_ids) - len(missing), misses=len(missing))
        if missing:
            request = tickets_pb2.BatchGetTicketsRequest(ids=missing)
            fetched = (
                await self.clients.call(self.clients.tickets.BatchGetTickets, request)
            ).tickets
            found.update((t.id, t) for t in fetched)
            if fetched:
                await self._fill(lambda cache: cache.fill(fetched))
        return [found.get(i) for i in ticket_ids]

    async def page(self, window: Window, *, include_reserved: bool) -> TicketPage:
        """ListTickets in the window's direction. Only the first forward page (no cursor) is
        cached; later pages and every backward page are read from the tickets service, which
        pages both ways on its (created_at, id) index."""
        if window.backward or window.after:
            return await self._list(window, include_reserved=include_reserved)
        lookup = await self._read(
            lambda cache: cache.first_page(window.size, include_reserved=include_reserved)
        )
        if lookup is not None and lookup.page is not None:
            tickets = await self.get_many(lookup.page.ticket_ids)
            if all(t is not None for t in tickets):
                self._count("page", hits=1)
                found = [t for t in tickets if t is not None]
                # The newest first: nothing is before the first page.
                return TicketPage(
                    found, has_next=bool(lookup.page.next_page_token), has_previous=False
                )
        self._count("page", misses=1)
        page = await self._list(window, include_reserved=include_reserved)
        if lookup is not None:
            generation = lookup.generation
            next_token = page.next_token
            await self._fill(
                lambda cache: cache.fill_page(
                    window.size,
                    generation,
                    page.tickets,
                    next_token,
                    include_reserved=include_reserved,
                )
            )
        return page

    async def wrote(self, ticket: tickets_pb2.Ticket) -> None:
        """A ticket this gateway created or changed, as the service returned it: cached, and the
        pages invalidated, so the caller's next read shows it. Tried even while the breaker
        skips reads: a write skipped would leave the older state to be read."""
        if self.cache is None:
            return
        try:
            await self.cache.write(ticket)
        except RedisError as exc:
            self.breaker.failed(exc)
            self._bypassed("failed")

    async def close(self) -> None:
        if self.cache is not None:
            await self.cache.close()

    async def _list(self, window: Window, *, include_reserved: bool) -> TicketPage:
        request = tickets_pb2.ListTicketsRequest(
            page_size=window.size,
            page_token=window.after,
            before_page_token=window.before,
            backward=window.backward,
            include_reserved=include_reserved,
        )
        reply = await self.clients.call(self.clients.tickets.ListTickets, request)
        # Forwards, a next page token says as much as has_next_page.
        has_next = reply.has_next_page or (not window.backward and bool(reply.next_page_token))
        # The token is kept only to cache a first page with what the service said.
        next_token = reply.next_page_token or ("more" if has_next else "")
        return TicketPage(
            list(reply.tickets),
            has_next=has_next,
            has_previous=reply.has_previous_page,
            next_token=next_token,
        )

    async def _read(self, command: Callable[[TicketCache], Awaitable[T]]) -> T | None:
        """The command's result, or None without a cache, or when it fails (any Redis error: a
        cache must never fail a read) or failed within the last pause."""
        if self.cache is None:
            return None
        if self.breaker.is_open:
            self._bypassed("skipped")
            return None
        try:
            result = await command(self.cache)
        except RedisError as exc:
            self.breaker.failed(exc)
            self._bypassed("failed")
            return None
        self.breaker.succeeded()
        return result

    async def _fill(self, command: Callable[[TicketCache], Awaitable[object]]) -> None:
        await self._read(command)

    def _count(self, read: str, *, hits: int = 0, misses: int = 0) -> None:
        if self.cache is None:
            return
        if hits:
            TICKET_CACHE_READS.labels(read, "hit").inc(hits)
        if misses:
            TICKET_CACHE_READS.labels(read, "miss").inc(misses)
        log.debug("ticket cache", extra={"read": read, "hits": hits, "misses": misses})

    def _bypassed(self, reason: str) -> None:
        TICKET_CACHE_BYPASSED.labels(reason).inc()
