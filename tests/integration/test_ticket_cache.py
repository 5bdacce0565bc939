"""The gateway's ticket cache keeps version order, against the machine's Redis (each test in a
namespace of its own): a stale fill never replaces a newer entry, a tombstone refuses the states
before it and takes its own, an event handled twice changes nothing more, a page read before an
invalidation is not stored. And a Redis that is down is an outage: reads do without the cache
(asking it once per pause, not once per request), an event waits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from common.bus import Delivery
from common.delivery import is_waiting
from common.devstack import free_port
from common.protos import timestamp
from gateway.config import GatewaySettings
from gateway.ticket_cache import TicketCache, TicketReads, ticket_cache
from gateway.ticket_cache.events import CacheInvalidation
from gateway.ticket_cache.reads import Breaker
from ticketing.events.v1 import tickets_pb2 as ticket_events
from ticketing.tickets.v1 import tickets_pb2

pytestmark = pytest.mark.integration

CREATED = timestamp(datetime(2026, 11, 1, 20, 30, 15, 123456, tzinfo=UTC))
DELIVERY = Delivery("event-1", "ticketing.events.v1.TicketUpdated", "ticket.updated", 1, "tickets")


def ticket(version: int, title: str = "Concert", ticket_id: str = "t1", **fields):
    return tickets_pb2.Ticket(
        id=ticket_id,
        title=title,
        price="20.00",
        user_id="seller",
        version=version,
        create_time=CREATED,
        **fields,
    )


@pytest.fixture
async def cache(env) -> AsyncIterator[TicketCache]:
    made = ticket_cache(GatewaySettings.from_env(env))
    assert made is not None
    yield made
    await made.close()


async def cached(cache: TicketCache, ticket_id: str = "t1") -> tickets_pb2.Ticket | None:
    return (await cache.get_many([ticket_id])).get(ticket_id)


async def test_a_ticket_comes_back_exactly_as_it_was_stored(cache):
    held = ticket(3, order_id="o1")
    assert await cache.fill([held]) == 1
    assert await cached(cache) == held  # order id and create time to the microsecond
    assert await cache.get_many(["t1", "unknown"]) == {"t1": held}
    ttl_ms = await cache.redis.pttl(cache.entry_key("t1"))
    assert 0 < ttl_ms <= cache.ttl_ms


async def test_a_fill_of_an_older_version_never_replaces_a_newer_entry(cache):
    await cache.write(ticket(2, "Newer"))
    assert await cache.fill([ticket(1, "Older")]) == 0
    assert await cache.fill([ticket(2, "Same version, read elsewhere")]) == 0
    assert (await cached(cache)).title == "Newer"

    assert await cache.fill([ticket(3, "Newest")]) == 1
    assert (await cached(cache)).title == "Newest"


async def test_a_tombstone_refuses_the_versions_before_it_and_takes_its_own(cache):
    await cache.fill([ticket(1, "Before")])

    assert await cache.bury("t1", 2) is True
    assert await cached(cache) is None  # reads miss, and go to tickets

    assert await cache.fill([ticket(1, "Before")]) == 0  # a read that began before the change
    assert await cached(cache) is None
    assert await cache.fill([ticket(2, "After")]) == 1
    assert (await cached(cache)).title == "After"

    assert await cache.bury("t1", 1) is False  # an older event, late
    assert (await cached(cache)).title == "After"


async def test_a_tombstone_on_an_uncached_ticket_still_refuses_a_stale_fill(cache):
    """A read began before the change and fills after the event: nothing was cached then."""
    assert await cache.bury("t1", 4) is True
    assert await cache.fill([ticket(3)]) == 0
    assert await cached(cache) is None


async def test_an_event_handled_twice_changes_nothing_more(cache):
    invalidation = CacheInvalidation(cache)
    event = ticket_events.TicketUpdated(id="t1", version=2, title="After", order_id="o1")
    await cache.fill([ticket(1, "Before")])

    await invalidation.on_ticket_updated(event, DELIVERY)
    await cache.fill([ticket(2, "After", order_id="o1")])  # the next read fills it
    await invalidation.on_ticket_updated(event, DELIVERY)  # redelivered

    assert await cached(cache) == ticket(2, "After", order_id="o1")


async def test_the_gateways_own_write_is_not_undone_by_the_event_it_caused(cache):
    await cache.write(ticket(5, "Edited here"))
    await CacheInvalidation(cache).on_ticket_updated(
        ticket_events.TicketUpdated(id="t1", version=5, title="Edited here"), DELIVERY
    )
    assert (await cached(cache)).title == "Edited here"


async def test_a_page_read_before_an_invalidation_is_not_stored(cache):
    page = [ticket(0, ticket_id="t2"), ticket(0, ticket_id="t1")]
    before = await cache.first_page(20, include_reserved=False)
    assert before.page is None

    await cache.bury("t9", 1)  # any change, between the lookup and ListTickets' answer

    assert await cache.fill_page(20, before.generation, page, "", include_reserved=False) is False
    assert (await cache.first_page(20, include_reserved=False)).page is None
    # Its tickets are cached all the same: each is version-checked on its own.
    assert set(await cache.get_many(["t1", "t2"])) == {"t1", "t2"}


async def test_a_page_is_served_until_the_next_invalidation(cache):
    page = [ticket(0, ticket_id="t2"), ticket(0, ticket_id="t1")]
    lookup = await cache.first_page(2, include_reserved=True)
    assert (
        await cache.fill_page(2, lookup.generation, page, "next-token", include_reserved=True)
        is True
    )

    found = (await cache.first_page(2, include_reserved=True)).page
    assert found is not None
    assert (found.ticket_ids, found.next_page_token) == (["t2", "t1"], "next-token")
    assert (
        await cache.first_page(2, include_reserved=False)
    ).page is None  # another page: its own entry

    await CacheInvalidation(cache).on_ticket_created(
        ticket_events.TicketCreated(id="t3", version=0), DELIVERY
    )
    assert (await cache.first_page(2, include_reserved=True)).page is None
    await cache.write(ticket(1, ticket_id="t1"))
    lookup = await cache.first_page(2, include_reserved=True)
    assert await cache.fill_page(2, lookup.generation, page, "", include_reserved=True) is True
    await cache.write(ticket(2, ticket_id="t1"))  # the gateway's own edit invalidates too
    assert (await cache.first_page(2, include_reserved=True)).page is None


# -- Redis down ----------------------------------------------------------------------------------


class TicketsService:
    """Answers as the tickets service would, counting calls: the reads' other source."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.tickets = self

    async def call(self, method, request, token=None, timeout=None):
        self.calls.append(method)
        if method == "GetTicket":
            return tickets_pb2.GetTicketResponse(ticket=ticket(1, ticket_id=request.id))
        return tickets_pb2.BatchGetTicketsResponse(
            tickets=[ticket(1, ticket_id=i) for i in request.ids]
        )

    GetTicket = "GetTicket"
    BatchGetTickets = "BatchGetTickets"


@pytest.fixture
async def nowhere_cache(env) -> AsyncIterator[TicketCache]:
    """A cache whose Redis is down: nothing listens on its port."""
    settings = GatewaySettings.from_env({**env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    made = ticket_cache(settings)
    assert made is not None
    yield made
    await made.close()


async def test_reads_do_without_a_cache_that_is_down_asking_it_once_per_pause(nowhere_cache):
    service = TicketsService()
    frozen = Breaker(clock=lambda: 0.0)  # the pause never ends: no timing in this test
    reads = TicketReads(service, nowhere_cache, frozen)  # type: ignore[arg-type]
    before = {reason: bypassed(reason) for reason in ("failed", "skipped")}

    assert (await reads.get("t1")).id == "t1"
    assert [t.id for t in await reads.get_many(["t2", "t3"])] == ["t2", "t3"]
    assert (await reads.get("t4")).id == "t4"

    assert service.calls == ["GetTicket", "BatchGetTickets", "GetTicket"]
    # The first command failed; the five after it (three reads, two fills) were not even sent.
    # (as the gateway's /metrics shows them)
    assert (bypassed("failed") - before["failed"], bypassed("skipped") - before["skipped"]) == (
        1,
        5,
    )


async def test_an_event_waits_for_a_redis_that_is_down(nowhere_cache):
    event = ticket_events.TicketUpdated(id=str(uuid.uuid4()), version=1)
    with pytest.raises(Exception) as failed:
        await CacheInvalidation(nowhere_cache).on_ticket_updated(event, DELIVERY)
    assert is_waiting(failed.value)  # retried on the wait budget, not dead-lettered


def bypassed(reason: str) -> float:
    value = REGISTRY.get_sample_value("ticketing_ticket_cache_bypassed_total", {"reason": reason})
    return value or 0.0
