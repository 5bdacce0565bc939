"""A deterministic, realistic catalogue for search: events (performers, venues in 40 cities,
many with accents, five categories, dates over a year; made by common/devstack/demo/catalogue.py,
which `ticketing demo` shares) and listings, summarised per event into the `SearchDocument`s the
index takes (the cheapest active listing's price, the tickets for sale).

`generate(spec)` returns the raw events and listings (for a gateway-level benchmark that seeds
the catalogue and tickets services) and `documents(catalogue)` the search documents (for the
index alone). The same seed gives the same catalogue, byte for byte.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from common.devstack.demo.catalogue import RawEvent, Venue, generate_events
from svc_catalogue.domain.search import SearchDocument

BASE_PRICE = {"CONCERT": 55, "SPORTS": 45, "THEATRE": 40, "COMEDY": 30, "FESTIVAL": 120}


@dataclass(frozen=True)
class CatalogueSpec:
    events: int = 10_000
    listings: int = 100_000
    performers: int = 2_500
    seed: int = 20
    # The first day events start on; they spread over the `days` after it.
    start: datetime = datetime(2027, 1, 1, tzinfo=UTC)
    days: int = 365


@dataclass(frozen=True)
class RawListing:
    listing_id: str
    event_id: str
    seller: str
    price: Decimal
    currency_code: str
    quantity: int
    active: bool  # False: sold or withdrawn, not for sale


@dataclass
class Catalogue:
    spec: CatalogueSpec
    events: list[RawEvent]
    listings: list[RawListing]
    venues: list[Venue] = field(default_factory=list)
    performers: list[str] = field(default_factory=list)


def generate(spec: CatalogueSpec | None = None) -> Catalogue:
    spec = spec or CatalogueSpec()
    rng = random.Random(spec.seed)
    made = generate_events(
        rng, events=spec.events, performers=spec.performers, start=spec.start, days=spec.days
    )
    listings = _listings(rng, spec, made.events)
    return Catalogue(spec, made.events, listings, made.venues, made.performers)


def _listings(rng: random.Random, spec: CatalogueSpec, events: list[RawEvent]) -> list[RawListing]:
    """Listings spread by popularity: some events have dozens, about a tenth have none."""
    demand = [rng.paretovariate(1.2) if rng.random() > 0.1 else 0.0 for _ in events]
    listed_events = rng.choices(events, demand, k=spec.listings)
    listings = []
    for n, event in enumerate(listed_events):
        base = BASE_PRICE[event.category]
        price = Decimal(str(round(base * rng.lognormvariate(0, 0.5), 2)))
        listings.append(
            RawListing(
                listing_id=f"lst-{n:06d}",
                event_id=event.event_id,
                seller=f"seller-{rng.randrange(5_000):04d}",
                price=max(price, Decimal("5.00")),
                currency_code="EUR",
                quantity=rng.choice((1, 1, 2, 2, 2, 3, 4, 4, 6)),
                active=rng.random() < 0.8,
            )
        )
    return listings


def documents(catalogue: Catalogue) -> list[SearchDocument]:
    """Each event joined with its active listings' summary, as the catalogue feeds the index."""
    lowest: dict[str, Decimal] = {}
    tickets: dict[str, int] = {}
    for listing in catalogue.listings:
        if not listing.active:
            continue
        tickets[listing.event_id] = tickets.get(listing.event_id, 0) + listing.quantity
        cheapest = lowest.get(listing.event_id)
        if cheapest is None or listing.price < cheapest:
            lowest[listing.event_id] = listing.price
    return [
        SearchDocument(
            event_id=event.event_id,
            name=event.name,
            performers=event.performers,
            venue_name=event.venue.name,
            city=event.venue.city,
            country=event.venue.country,
            category=event.category,
            starts_at=event.starts_at,
            status=event.status,
            lowest_price=lowest.get(event.event_id),
            currency_code="EUR" if event.event_id in lowest else "",
            tickets_for_sale=tickets.get(event.event_id, 0),
        )
        for event in catalogue.events
    ]
