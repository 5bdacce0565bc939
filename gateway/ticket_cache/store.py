"""The gateway's cached copy of tickets in Redis, every write a compare-and-set on the version.

Keys (`<ns>` is TICKETING_NAMESPACE):
- `<ns>:gateway:ticket:<id>`: `<version>|<serialized tickets.v1.Ticket>`, or `<version>|` alone,
  a tombstone: the ticket changed to `<version>` and the cache has not seen that state yet.
- `<ns>:gateway:tickets-generation`: a counter every invalidation increments.
- `<ns>:gateway:tickets-page:<page size>:<all|unreserved>`: the first page of ListTickets (ids
  and next page token) with the generation it was read under; good only while that is current.

Version order is kept in Lua, one script per write, so racing writers cannot interleave:
- a ticket replaces an entry only with a higher version, or the same version over a tombstone:
  a read that began before a change can never put the older state back over the newer one;
- a tombstone at version v replaces only an entry older than v;
- a page is stored only if the generation is still the one read before ListTickets was called.
Every entry and page expires after the TTL, a safety net for an invalidation that never came.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from ticketing.tickets.v1 import tickets_pb2

_SEPARATOR = b"|"

# Lua: (version, tombstone?) of a stored entry.
_HELD = """
local function held(value)
  local sep = string.find(value, '|', 1, true)
  return tonumber(string.sub(value, 1, sep - 1)), sep == #value
end
local function may_store(key, version)
  local current = redis.call('GET', key)
  if not current then return true end
  local held_version, tombstone = held(current)
  return held_version < version or (held_version == version and tombstone)
end
local function store(key, version, value, ttl_ms)
  if may_store(key, tonumber(version)) then
    redis.call('SET', key, value, 'PX', ttl_ms)
    return 1
  end
  return 0
end
"""

# KEYS: generation, entries... ARGV: ttl ms, '1' to invalidate the pages, then version and value
# of each entry. Returns how many entries were stored.
_STORE = (
    _HELD
    + """
local stored = 0
for i = 2, #KEYS do
  stored = stored + store(KEYS[i], ARGV[2 * i - 1], ARGV[2 * i], ARGV[1])
end
if ARGV[2] == '1' then redis.call('INCR', KEYS[1]) end
return stored
"""
)

# KEYS: generation, entry. ARGV: version, ttl ms. Invalidates the pages; 1 if the tombstone was
# laid, 0 if the entry already holds that version or a later one.
_BURY = (
    _HELD
    + """
local current = redis.call('GET', KEYS[2])
local buried = 0
if not current or held(current) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], ARGV[1] .. '|', 'PX', ARGV[2])
  buried = 1
end
redis.call('INCR', KEYS[1])
return buried
"""
)

# KEYS: generation, page, entries... ARGV: ttl ms, the generation read before ListTickets, the
# page, then version and value of each entry. The entries are stored as any read stores them; the
# page only if no invalidation came in between. Returns 1 if the page was stored.
_STORE_PAGE = (
    _HELD
    + """
for i = 3, #KEYS do
  store(KEYS[i], ARGV[2 * i - 2], ARGV[2 * i - 1], ARGV[1])
end
if redis.call('GET', KEYS[1]) == ARGV[2] then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[1])
  return 1
end
return 0
"""
)

# KEYS: generation. ARGV: a random start. The current generation, created if missing: it starts
# at a random number, so a generation lost (evicted, Redis emptied) and begun again cannot match
# a page stored under the old one.
_GENERATION = """
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
"""


@dataclass(frozen=True)
class CachedPage:
    ticket_ids: list[str]
    next_page_token: str


@dataclass(frozen=True)
class PageLookup:
    """The first page as cached, if still good, and the generation it was looked up under (what
    a filler must store its page with)."""

    generation: str
    page: CachedPage | None


class TicketCache:
    """Cached tickets and first pages. Every method sends Redis commands and raises its errors
    (the caller decides: a read does without the cache, an event waits for Redis)."""

    def __init__(self, redis: aioredis.Redis, namespace: str, ttl_seconds: float) -> None:
        self.redis = redis
        self.prefix = f"{namespace}:gateway:"
        self.generation_key = self.prefix + "tickets-generation"
        self.ttl_ms = int(ttl_seconds * 1000)
        self._store = redis.register_script(_STORE)
        self._bury = redis.register_script(_BURY)
        self._store_page = redis.register_script(_STORE_PAGE)
        self._generation = redis.register_script(_GENERATION)

    def entry_key(self, ticket_id: str) -> str:
        return f"{self.prefix}ticket:{ticket_id}"

    def page_key(self, page_size: int, *, include_reserved: bool) -> str:
        which = "all" if include_reserved else "unreserved"
        return f"{self.prefix}tickets-page:{page_size}:{which}"

    # -- tickets -----------------------------------------------------------------------------

    async def get_many(self, ticket_ids: Sequence[str]) -> dict[str, tickets_pb2.Ticket]:
        """The cached ones among `ticket_ids` (a tombstone counts as not cached)."""
        if not ticket_ids:
            return {}
        values = await self.redis.mget([self.entry_key(i) for i in ticket_ids])
        found = {}
        for ticket_id, value in zip(ticket_ids, values, strict=True):
            if value:
                payload = value.partition(_SEPARATOR)[2]
                if payload:
                    found[ticket_id] = tickets_pb2.Ticket.FromString(payload)
        return found

    async def fill(self, tickets: Iterable[tickets_pb2.Ticket]) -> int:
        """Caches tickets read from the tickets service, each unless a newer state is known.
        Returns how many were stored."""
        return await self._write(list(tickets), invalidate_pages=False)

    async def write(self, ticket: tickets_pb2.Ticket) -> int:
        """A ticket this gateway just created or changed: cached (unless a newer state is known)
        and every cached page invalidated, so the caller's next read shows it."""
        return await self._write([ticket], invalidate_pages=True)

    async def bury(self, ticket_id: str, version: int) -> bool:
        """The ticket changed to `version` elsewhere: reads miss until a fill brings that version
        (or a later one); a fill of an older one is refused. Invalidates every cached page.
        Running it again changes nothing more."""
        buried = await self._bury(
            keys=[self.generation_key, self.entry_key(ticket_id)], args=[version, self.ttl_ms]
        )
        return bool(buried)

    async def _write(self, tickets: list[tickets_pb2.Ticket], *, invalidate_pages: bool) -> int:
        if not tickets and not invalidate_pages:
            return 0
        keys = [self.generation_key, *(self.entry_key(t.id) for t in tickets)]
        args: list[int | bytes] = [self.ttl_ms, 1 if invalidate_pages else 0]
        for ticket in tickets:
            args += [ticket.version, _entry(ticket)]
        return int(await self._store(keys=keys, args=args))

    # -- first pages -------------------------------------------------------------------------

    async def invalidate_pages(self) -> None:
        await self.redis.incr(self.generation_key)

    async def first_page(self, page_size: int, *, include_reserved: bool) -> PageLookup:
        generation, value = await self.redis.mget(
            [self.generation_key, self.page_key(page_size, include_reserved=include_reserved)]
        )
        if generation is None:
            generation = await self._generation(
                keys=[self.generation_key], args=[secrets.randbits(48)]
            )
            return PageLookup(generation.decode(), None)
        generation = generation.decode()
        if value is None:
            return PageLookup(generation, None)
        stored = json.loads(value)
        if stored["generation"] != generation:
            return PageLookup(generation, None)
        return PageLookup(generation, CachedPage(stored["ids"], stored["next"]))

    async def fill_page(
        self,
        page_size: int,
        generation: str,
        tickets: Sequence[tickets_pb2.Ticket],
        next_page_token: str,
        *,
        include_reserved: bool,
    ) -> bool:
        """Caches a first page read from ListTickets (and its tickets), unless the pages were
        invalidated since `generation` was looked up. Returns whether the page was stored."""
        page = {"generation": generation, "ids": [t.id for t in tickets], "next": next_page_token}
        keys = [
            self.generation_key,
            self.page_key(page_size, include_reserved=include_reserved),
            *(self.entry_key(t.id) for t in tickets),
        ]
        args: list[int | str | bytes] = [self.ttl_ms, generation, json.dumps(page)]
        for ticket in tickets:
            args += [ticket.version, _entry(ticket)]
        return bool(await self._store_page(keys=keys, args=args))

    async def close(self) -> None:
        await self.redis.aclose()


def _entry(ticket: tickets_pb2.Ticket) -> bytes:
    return str(ticket.version).encode() + _SEPARATOR + ticket.SerializeToString()
