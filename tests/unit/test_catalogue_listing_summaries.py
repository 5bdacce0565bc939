"""svc_catalogue/service_layer/listing_summaries.py: an event's lowest price and tickets for sale,
kept from listings' events: idempotent, in version order, v1 tickets ignored, and every change
visible to search through the feed."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from common.delivery import Delivery
from svc_catalogue.adapters.tantivy_index import TantivyEventIndex
from svc_catalogue.domain.listings import Listing, ListingSummary, summarise
from svc_catalogue.domain.model import Event
from svc_catalogue.domain.search import SearchFilter, SearchQuery
from svc_catalogue.domain.values import check_details, check_venue
from svc_catalogue.service_layer.listing_summaries import ListingSummaryHandlers
from svc_catalogue.service_layer.search_sync import SearchSync
from tests.unit.fakes_catalogue import (
    CatalogueStore,
    FakeCatalogueUnitOfWork,
    FakeFeed,
    FakeListings,
)
from ticketing.events.v1 import tickets_pb2

STARTS = datetime(2027, 6, 1, 19, tzinfo=UTC)


def delivery(event_id: str) -> Delivery:
    return Delivery(event_id, "ticketing.events.v1.TicketUpdated", "ticket.updated", 1, "tickets")


def created(listing="l1", price="50.00", available=2, currency="GBP", event_id="e1"):
    return tickets_pb2.TicketCreated(
        id=listing,
        version=0,
        price=price,
        currency_code=currency,
        event_id=event_id,
        quantity=available,
        available=available,
    )


def updated(version, listing="l1", price="50.00", available=2, withdrawn=False, event_id="e1"):
    return tickets_pb2.TicketUpdated(
        id=listing,
        version=version,
        price=price,
        currency_code="GBP",
        event_id=event_id,
        quantity=2,
        available=available,
        withdrawn=withdrawn,
    )


@pytest.fixture
def store() -> CatalogueStore:
    store = CatalogueStore()
    details = check_details(
        "Arctic Monkeys",
        ["Arctic Monkeys"],
        check_venue("O2 Arena", "London", "GB", "Europe/London"),
        STARTS,
        STARTS + timedelta(hours=3),
        "CONCERT",
    )
    store.events["e1"] = Event.create("e1", details, STARTS - timedelta(days=90))
    store.events["e1"].events = []
    store.seqs["e1"] = store.seq = 1
    return store


@pytest.fixture
def handlers(store) -> ListingSummaryHandlers:
    return ListingSummaryHandlers(lambda: FakeCatalogueUnitOfWork(store))


async def test_listings_make_the_events_summary(handlers, store):
    await handlers.on_ticket_created(created("l1", "50.00", 2), delivery("m1"))
    await handlers.on_ticket_created(created("l2", "35.00", 4), delivery("m2"))
    assert store.events["e1"].summary == ListingSummary(Decimal("35.00"), "GBP", 6)
    await handlers.on_ticket_updated(updated(1, "l2", "35.00", 0), delivery("m3"))
    assert store.events["e1"].summary == ListingSummary(Decimal("50.00"), "GBP", 2)
    await handlers.on_ticket_updated(updated(1, "l1", withdrawn=True), delivery("m4"))
    assert store.events["e1"].summary == ListingSummary()


async def test_a_redelivered_event_changes_nothing(handlers, store):
    await handlers.on_ticket_created(created(), delivery("m1"))
    await handlers.on_ticket_updated(updated(1, price="40.00"), delivery("m2"))
    seq = store.seq
    await handlers.on_ticket_updated(updated(1, price="40.00"), delivery("m2"))
    assert store.seq == seq
    assert store.events["e1"].summary.lowest_price == Decimal("40.00")


async def test_an_older_version_arriving_late_is_skipped(handlers, store):
    await handlers.on_ticket_updated(updated(3, price="30.00"), delivery("m3"))
    await handlers.on_ticket_updated(updated(2, price="99.00"), delivery("m2"))
    await handlers.on_ticket_created(created(price="10.00"), delivery("m1"))
    assert store.listings["l1"].version == 3
    assert store.events["e1"].summary == ListingSummary(Decimal("30.00"), "GBP", 2)


async def test_a_ticket_without_an_event_is_ignored(handlers, store):
    seq = store.seq
    await handlers.on_ticket_created(created(event_id=""), delivery("m1"))
    assert store.listings == {} and store.seq == seq


async def test_a_summary_change_reaches_search_through_the_feed(handlers, store):
    index = TantivyEventIndex()
    sync = SearchSync(FakeFeed(store), index, poll_seconds=0.01)
    await sync.build()
    with_tickets = SearchQuery(filter=SearchFilter(has_tickets=True))
    assert index.search(with_tickets).total == 0
    await handlers.on_ticket_created(created(price="25.00"), delivery("m1"))
    assert await sync.catch_up() == 1
    assert index.search(with_tickets).event_ids == ["e1"]
    under_30 = SearchQuery(filter=SearchFilter(price_max=Decimal("30")))
    assert index.search(under_30).event_ids == ["e1"]


def test_the_lowest_price_is_of_the_most_common_currency():
    def listing(i, price, currency, available=1):
        return Listing(f"l{i}", "e1", Decimal(price), currency, available, 0)

    summary = summarise(
        [
            listing(1, "5.00", "USD"),
            listing(2, "40.00", "EUR"),
            listing(3, "30.00", "EUR"),
            listing(4, "1.00", "EUR", available=0),
        ]
    )
    assert summary == ListingSummary(Decimal("30.00"), "EUR", 3)


async def test_the_index_is_built_page_by_page_and_follows_new_changes(store):
    for i in range(2, 6):
        store.events[f"e{i}"] = dataclasses.replace(store.events["e1"], id=f"e{i}", events=[])
        store.seq += 1
        store.seqs[f"e{i}"] = store.seq
    index = TantivyEventIndex()
    sync = SearchSync(FakeFeed(store), index, poll_seconds=0.01, page_size=2)
    await sync.build()
    assert (len(index), sync.last_seq, sync.built.is_set()) == (5, 5, True)
    assert await sync.catch_up() == 0
    handlers = ListingSummaryHandlers(lambda: FakeCatalogueUnitOfWork(store))
    await handlers.on_ticket_created(created(event_id="e3"), delivery("m1"))
    assert await sync.catch_up() == 1
    assert index.search(SearchQuery(filter=SearchFilter(has_tickets=True))).event_ids == ["e3"]


async def test_listing_events_held_at_once_are_applied_in_one_transaction(handlers, store):
    """The consumer's messages in hand commit together: each event touched is summarised once,
    taking one sequence number, however many of its listings changed."""
    store.events["e2"] = dataclasses.replace(store.events["e1"], id="e2", events=[])
    store.seq += 1
    store.seqs["e2"] = store.seq
    commits, seq = store.commits, store.seq
    await asyncio.gather(
        handlers.on_ticket_created(created("l1", "50.00", 2), delivery("m1")),
        handlers.on_ticket_created(created("l2", "35.00", 4), delivery("m2")),
        handlers.on_ticket_created(created("l3", "70.00", 1, event_id="e2"), delivery("m3")),
        handlers.on_ticket_updated(updated(1, "l2", "30.00", 3), delivery("m4")),
        handlers.on_ticket_created(created("l2", "35.00", 4), delivery("m2")),  # redelivered
    )
    assert (store.commits, store.seq) == (commits + 1, seq + 2)
    assert store.events["e1"].summary == ListingSummary(Decimal("30.00"), "GBP", 5)
    assert store.events["e2"].summary == ListingSummary(Decimal("70.00"), "GBP", 1)


async def test_a_change_that_fails_fails_alone(handlers, store, monkeypatch):
    put_many = FakeListings.put_many

    async def refusing(self, listings):
        if any(listing.id == "bad" for listing in listings):
            raise ValueError("cannot store it")
        await put_many(self, listings)

    monkeypatch.setattr(FakeListings, "put_many", refusing)
    outcomes = await asyncio.gather(
        handlers.on_ticket_created(created("l1", "50.00", 2), delivery("m1")),
        handlers.on_ticket_created(created("bad", "1.00", 2), delivery("m2")),
        handlers.on_ticket_created(created("l3", "40.00", 1), delivery("m3")),
        return_exceptions=True,
    )
    assert [type(outcome) for outcome in outcomes] == [type(None), ValueError, type(None)]
    assert store.events["e1"].summary == ListingSummary(Decimal("40.00"), "GBP", 3)
    monkeypatch.undo()
    await handlers.on_ticket_created(created("bad", "1.00", 2), delivery("m2"))  # redelivered
    assert store.events["e1"].summary == ListingSummary(Decimal("1.00"), "GBP", 5)


async def test_a_message_twice_and_an_older_one_late_leave_the_newest_counted_once(handlers, store):
    """Idempotent by the listing's version alone: the same message again (alone, or in the same
    batch) and an older one after a newer one change nothing, write nothing."""
    await handlers.on_ticket_created(created("l1", "50.00", 2), delivery("m1"))
    await handlers.on_ticket_updated(updated(2, "l1", "45.00", 1), delivery("m3"))
    newest = ListingSummary(Decimal("45.00"), "GBP", 1)
    assert store.events["e1"].summary == newest
    commits, seq = store.commits, store.seq

    await handlers.on_ticket_updated(updated(2, "l1", "45.00", 1), delivery("m3"))  # again
    await handlers.on_ticket_updated(updated(1, "l1", "60.00", 2), delivery("m2"))  # older, late
    await asyncio.gather(
        handlers.on_ticket_created(created("l1", "50.00", 2), delivery("m1")),
        handlers.on_ticket_updated(updated(2, "l1", "45.00", 1), delivery("m3")),
        handlers.on_ticket_updated(updated(2, "l1", "45.00", 1), delivery("m3")),
    )

    assert store.events["e1"].summary == newest
    assert store.listings["l1"].version == 2
    assert (store.commits, store.seq) == (commits, seq)
    # The withdrawal is the next version: applied once, and then it stands.
    await handlers.on_ticket_updated(updated(3, "l1", withdrawn=True), delivery("m4"))
    await handlers.on_ticket_updated(updated(2, "l1", "45.00", 1), delivery("m3"))
    await handlers.on_ticket_updated(updated(3, "l1", withdrawn=True), delivery("m4"))
    assert store.events["e1"].summary == ListingSummary()
    assert (store.commits, store.seq) == (commits + 1, seq + 1)
