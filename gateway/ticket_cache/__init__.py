"""The gateway's read model of tickets in Redis: `store` (entries and first pages, written by
compare-and-set on the version), `reads` (what the resolvers and the tickets DataLoader call:
cache first, the tickets service on a miss or a Redis outage), `events` (tickets' events
invalidate what the gateway did not change itself).

Freshness: the gateway's own createTicket/updateTicket write their result through, so the
caller's next read shows it; changes made elsewhere reach the cache as events, within their
propagation time; TICKET_CACHE_TTL_SECONDS bounds an entry's life should an event be lost.
"""

from __future__ import annotations

from common.redis_client import redis_client
from gateway.config import GatewaySettings
from gateway.ticket_cache.events import CacheEvents
from gateway.ticket_cache.reads import TicketReads
from gateway.ticket_cache.store import TicketCache


def ticket_cache(settings: GatewaySettings) -> TicketCache | None:
    """The cache on a Redis client of its own that fails fast; None when it is turned off.
    Connects to nothing yet."""
    if not settings.ticket_cache_enabled:
        return None
    redis = redis_client(settings, fail_fast_seconds=settings.ticket_cache_timeout_seconds)
    return TicketCache(redis, settings.namespace, settings.ticket_cache_ttl_seconds)


__all__ = ["CacheEvents", "TicketCache", "TicketReads", "ticket_cache"]
