"""The search benchmark's generated catalogue (bench/search/catalogue.py), which the gateway-level
search benchmark will seed a stack with: the same seed gives the same catalogue, and each event's
search document summarises its active listings."""

from __future__ import annotations

from collections import defaultdict

from bench.search.catalogue import CatalogueSpec, documents, generate
from bench.search.queries import query_mix
from svc_catalogue.adapters.tantivy_index import TantivyEventIndex

SMALL = CatalogueSpec(events=400, listings=4_000, performers=300)


def test_the_same_seed_gives_the_same_catalogue_and_another_seed_another() -> None:
    assert generate(SMALL) == generate(SMALL)
    other = generate(CatalogueSpec(events=400, listings=4_000, performers=300, seed=21))
    assert other.events != generate(SMALL).events


def test_the_catalogue_has_the_shape_asked_for() -> None:
    catalogue = generate(SMALL)
    assert len(catalogue.events) == 400 and len(catalogue.listings) == 4_000
    assert len({e.event_id for e in catalogue.events}) == 400
    assert len({e.venue.city for e in catalogue.events}) >= 30
    assert {e.category for e in catalogue.events} == {
        "CONCERT", "SPORTS", "THEATRE", "COMEDY", "FESTIVAL",
    }  # fmt: skip
    days = {(e.starts_at - SMALL.start).days for e in catalogue.events}
    assert min(days) >= 0 and max(days) < SMALL.days
    known = {e.event_id for e in catalogue.events}
    assert {listing.event_id for listing in catalogue.listings} <= known


def test_a_document_summarises_its_events_active_listings() -> None:
    catalogue = generate(SMALL)
    active = defaultdict(list)
    for listing in catalogue.listings:
        if listing.active:
            active[listing.event_id].append(listing)
    docs = documents(catalogue)
    assert [d.event_id for d in docs] == [e.event_id for e in catalogue.events]
    for doc in docs:
        listings = active.get(doc.event_id, [])
        assert doc.tickets_for_sale == sum(listing.quantity for listing in listings)
        assert doc.lowest_price == (min(x.price for x in listings) if listings else None)
    assert any(d.lowest_price is None for d in docs)  # some events have nothing for sale


def test_the_query_mix_finds_events_in_the_catalogue() -> None:
    docs = documents(generate(SMALL))
    index = TantivyEventIndex()
    index.upsert(docs)
    index.refresh()
    queries = query_mix(docs, 200)
    assert queries == query_mix(docs, 200)
    found = [index.search(query).total for query in queries]
    # Unfiltered text is taken from a listed event, so it finds at least that one.
    unfiltered = [n for q, n in zip(queries, found, strict=True) if q.filter == type(q.filter)()]
    assert unfiltered and all(n >= 1 for n in unfiltered)
