"""Seeds a running stack's catalogue with the generated catalogue (bench/search/catalogue.py):
the events through ImportEvents as the `cli` identity (as `ticketing catalogue import` does,
batches of 500); then a sample of the listings as the tickets service announces them
(`ticket.created` on the namespace's exchange, which the catalogue's listing summaries consume)
until they are applied or a budget is spent (the rest purged), which measures the consumer's
rate; then every listing written straight into the catalogue's read model by its own adapters
(`MongoListingRepository.put_many`, `MongoEventRepository.set_summaries`, in transactions of
SEED_CHUNK), as the consumer would have left it: at the consumer's ~50 a second on this
machine's shared SecantusDB, 100,000 would take more than half an hour (bench/README.md).
Returns how long each part took."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal

import grpc
import pika

from bench.search.catalogue import Catalogue
from bench.search.seeding import import_rows, listing_event
from bench.stack import BenchStack
from common import bus, events
from common.mongo import database_name, mongo_client
from common.service_identity import CLI, GATEWAY, ServiceTokens, load_private_key
from svc_catalogue.adapters.repository import LISTINGS
from svc_catalogue.adapters.unit_of_work import MongoCatalogueUnitOfWork
from svc_catalogue.domain.listings import Listing, summarise
from ticketing.catalogue.v1 import catalogue_pb2 as pb
from ticketing.catalogue.v1 import catalogue_pb2_grpc

CATALOGUE = "catalogue"
IMPORT_BATCH = 500
SEED_CHUNK = 1_000  # listings (or events' summaries) per transaction of the direct seeding


@dataclass
class Seeded:
    event_ids: dict[str, str]  # the generator's id -> the catalogue's
    import_s: float  # ImportEvents, every batch answered
    import_searchable_s: float  # from the import's start until search counts every event
    publish_s: float  # every sampled listing event handed to the broker
    listings_s: float  # from the first publish until every one applied (or the budget spent)
    listings_applied: int  # of the sample, through the consumer (about: it holds up to 32)
    events_with_tickets: int  # as search counts them afterwards
    listings_sampled: int = 0  # published as ticket.created
    direct_s: float = 0.0  # every listing written into the read model directly
    searchable: int = 0  # events search counts once seeded
    listings_loaded: int = 0  # listings in the catalogue's read model once seeded


def tokens(stack: BenchStack, identity: str) -> ServiceTokens:
    pem = (stack.workdir / "service-keys" / "private" / f"{identity}.pem").read_text()
    return ServiceTokens(identity, load_private_key(pem))


def gateway_token(stack: BenchStack) -> str:
    """A token the catalogue takes as the gateway's (valid TOKEN_SECONDS, 300 s)."""
    return tokens(stack, GATEWAY).token_for(CATALOGUE)


async def import_events(stack: BenchStack, catalogue: Catalogue) -> dict[str, str]:
    cli = tokens(stack, CLI)
    rows = [pb.ImportRow(**row) for row in import_rows(catalogue)]
    ids: dict[str, str] = {}
    async with grpc.aio.insecure_channel(stack.replicas[0].addr(CATALOGUE)) as channel:
        stub = catalogue_pb2_grpc.CatalogueServiceStub(channel)
        for start in range(0, len(rows), IMPORT_BATCH):
            reply = await stub.ImportEvents(
                pb.ImportEventsRequest(rows=rows[start : start + IMPORT_BATCH]),
                metadata=(cli.metadata_for(CATALOGUE),),
                timeout=300,
            )
            for result in reply.results:
                if result.outcome == pb.IMPORT_OUTCOME_FAILED:
                    raise RuntimeError(f"import row {result.external_ref} failed: {result.errors}")
                ids[result.external_ref] = result.event_id
    return ids


def publish_listings(
    stack: BenchStack, catalogue: Catalogue, event_ids: dict[str, str], count: int
) -> None:
    """The first `count` listings as `ticket.created`, persistent, on one channel (unconfirmed:
    confirming each one took 3 ms on a busy machine, and the catalogue's queue says what
    arrived)."""
    connection = bus.connect(stack.amqp_url)
    try:
        channel = connection.channel()
        exchange = bus.declare_exchange(channel, stack.namespace)
        for listing in catalogue.listings[:count]:
            event = listing_event(listing, event_ids[listing.event_id])
            channel.basic_publish(
                exchange,
                events.routing_key(event),
                events.encode(event),
                pika.BasicProperties(
                    message_id=str(uuid.uuid4()),
                    type=events.type_name(event),
                    content_type="application/json",
                    delivery_mode=2,
                ),
            )
    finally:
        connection.close()


async def search_total(stub, token: str, **request) -> int:
    reply = await stub.SearchEvents(
        pb.SearchEventsRequest(page_size=1, **request),
        metadata=(("x-service-token", token),),
        timeout=10,
    )
    return reply.total_count


async def wait_for_total(stub, stack: BenchStack, want: int, timeout: float, **request) -> None:
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        seen = await search_total(stub, gateway_token(stack), **request)
        if seen == want:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"search counted {seen}, not {want}, after {timeout:.0f} s ({request})")


def catalogue_queue(stack: BenchStack, purge: bool = False) -> int:
    """Messages waiting in the catalogue's queue (emptied first when `purge`)."""
    connection = bus.connect(stack.amqp_url)
    try:
        channel = connection.channel()
        name = bus.queue_name(stack.namespace, CATALOGUE)
        if purge:
            channel.queue_purge(name)
        return channel.queue_declare(name, passive=True).method.message_count
    finally:
        connection.close()


async def apply_listings(stack: BenchStack, catalogue: Catalogue, budget_s: float) -> int:
    """Waits until the catalogue has applied every listing event, or `budget_s` went by: then
    what is left in its queue is purged (so the searches run on a quiet stack). Returns how
    many listing events were left unapplied."""
    deadline = time.monotonic() + budget_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(catalogue_queue, stack) == 0:
            return 0
        await asyncio.sleep(1)
    return await asyncio.to_thread(catalogue_queue, stack)


def read_model_listings(catalogue: Catalogue, event_ids: dict[str, str]) -> list[Listing]:
    """Every listing as the consumer stores it from its `ticket.created` (same ids)."""
    listings = []
    for raw in catalogue.listings:
        event = listing_event(raw, event_ids[raw.event_id])
        listings.append(
            Listing(event.id, event.event_id, Decimal(event.price), event.currency_code,
                    event.available, event.version)
        )  # fmt: skip
    return listings


async def seed_read_model(stack: BenchStack, listings: list[Listing]) -> int:
    """The listings and their events' summaries written by the catalogue's own adapters, each
    summary taking its sequence number (so every replica's index follows, as after the
    consumer). Returns how many events have tickets for sale."""
    client = mongo_client(stack.mongo_url)
    try:
        db = client[database_name(stack.namespace, CATALOGUE)]
        by_event: dict[str, list[Listing]] = {}
        for listing in listings:
            by_event.setdefault(listing.event_id, []).append(listing)
        for start in range(0, len(listings), SEED_CHUNK):
            async with MongoCatalogueUnitOfWork(client, db, "bench") as uow:
                await uow.listings.put_many(listings[start : start + SEED_CHUNK])
                await uow.commit()
        event_ids = sorted(by_event)
        for start in range(0, len(event_ids), SEED_CHUNK):
            chunk = event_ids[start : start + SEED_CHUNK]
            async with MongoCatalogueUnitOfWork(client, db, "bench") as uow:
                await uow.events.set_summaries({e: summarise(by_event[e]) for e in chunk})
                await uow.commit()
        return sum(1 for rows in by_event.values() if summarise(rows).tickets_for_sale)
    finally:
        await client.close()


async def seed(
    stack: BenchStack, catalogue: Catalogue, budget_s: float, say, sample: int | None = None
) -> Seeded:
    """`sample`: how many listings go through the consumer first (all by default); then all of
    them are written into the read model directly."""
    async with grpc.aio.insecure_channel(stack.replicas[0].addr(CATALOGUE)) as channel:
        stub = catalogue_pb2_grpc.CatalogueServiceStub(channel)
        started = time.monotonic()
        event_ids = await import_events(stack, catalogue)
        import_s = time.monotonic() - started
        say(f"imported {len(event_ids):,} events in {import_s:.1f} s")
        await wait_for_total(stub, stack, len(catalogue.events), 120)
        import_searchable_s = time.monotonic() - started

        sampled = len(catalogue.listings) if sample is None else sample
        started = time.monotonic()
        await asyncio.to_thread(publish_listings, stack, catalogue, event_ids, sampled)
        publish_s = time.monotonic() - started
        say(f"published {sampled:,} listing events in {publish_s:.1f} s")
        left = await apply_listings(stack, catalogue, max(budget_s - publish_s, 1))
        applied_s = time.monotonic() - started
        if left:
            await asyncio.to_thread(catalogue_queue, stack, True)
            say(f"{left:,} listing events not applied after {applied_s:.0f} s: purged")
        await asyncio.to_thread(stack.wait_quiet, 120)
        direct_started = time.monotonic()
        if sampled < len(catalogue.listings):
            for_sale = await seed_read_model(stack, read_model_listings(catalogue, event_ids))
            say(f"{len(catalogue.listings):,} listings written into the read model")
            await wait_for_total(
                stub, stack, for_sale, 300, filter=pb.SearchFilter(has_tickets=True)
            )
        direct_s = time.monotonic() - direct_started
        await asyncio.sleep(1)  # the index's poll
        with_tickets = await search_total(
            stub, gateway_token(stack), filter=pb.SearchFilter(has_tickets=True)
        )
        searchable = await search_total(stub, gateway_token(stack))
        loaded = await stored_listings(stack)
    return Seeded(
        event_ids,
        import_s,
        import_searchable_s,
        publish_s,
        applied_s,
        sampled - left,
        with_tickets,
        sampled,
        direct_s,
        searchable,
        loaded,
    )


async def stored_listings(stack: BenchStack) -> int:
    client = mongo_client(stack.mongo_url)
    try:
        db = client[database_name(stack.namespace, CATALOGUE)]
        return await db[LISTINGS].count_documents({})
    finally:
        await client.close()
