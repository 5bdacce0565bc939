"""A deterministic, realistic catalogue for search: events (performers, venues in 40 cities,
many with accents, five categories, dates over a year) and listings, summarised per event into
the `SearchDocument`s the index takes (the cheapest active listing's price, the tickets for sale).

`generate(spec)` returns the raw events and listings (for a gateway-level benchmark that seeds
the catalogue and tickets services) and `documents(catalogue)` the search documents (for the
index alone). The same seed gives the same catalogue, byte for byte.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate

from bench.search.names import (
    CATEGORY_SHARES,
    CITIES,
    COMEDY_SHOWS,
    FESTIVAL_WORDS,
    FIRST_NAMES,
    LAST_NAMES,
    PLAYS,
    TOUR_WORDS,
    band_name,
    team_name,
    venue_names,
)
from svc_catalogue.domain.search import SearchDocument

BASE_PRICE = {"CONCERT": 55, "SPORTS": 45, "THEATRE": 40, "COMEDY": 30, "FESTIVAL": 120}
STATUS_SHARES = (
    ("SCHEDULED", 0.95),
    ("POSTPONED", 0.02),
    ("RESCHEDULED", 0.01),
    ("CANCELLED", 0.02),
)


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
class Venue:
    name: str
    city: str
    country: str


@dataclass(frozen=True)
class RawEvent:
    event_id: str
    name: str
    performers: tuple[str, ...]
    venue: Venue
    category: str
    starts_at: datetime
    status: str


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
    venues = [
        Venue(name, city, country)
        for city, country in CITIES
        for name in venue_names(rng, city, rng.randint(3, 6))
    ]
    performers = _performers(rng, spec.performers)
    # Popularity: a few performers and venues get most events (Zipf-like weights).
    performer_weights = list(accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(performers))))
    venue_weights = list(accumulate(1 / (rank + 1) ** 0.5 for rank in range(len(venues))))
    rng.shuffle(venues)
    categories = [c for c, _ in CATEGORY_SHARES]
    category_weights = [w for _, w in CATEGORY_SHARES]
    statuses = [s for s, _ in STATUS_SHARES]
    status_weights = [w for _, w in STATUS_SHARES]
    events = []
    for n in range(spec.events):
        venue = rng.choices(venues, cum_weights=venue_weights)[0]
        category = rng.choices(categories, category_weights)[0]
        name, acts = _billing(rng, category, venue, performers, performer_weights)
        starts_at = spec.start + timedelta(
            days=rng.randrange(spec.days), hours=rng.choice((14, 18, 19, 19, 20, 20, 21))
        )
        status = rng.choices(statuses, status_weights)[0]
        events.append(RawEvent(f"evt-{n:05d}", name, acts, venue, category, starts_at, status))
    return Catalogue(spec, events, _listings(rng, spec, events), venues, performers)


def _performers(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        if rng.random() < 0.5:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        else:
            name = band_name(rng)
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _billing(
    rng: random.Random,
    category: str,
    venue: Venue,
    performers: list[str],
    weights: list[float],  # cumulative
) -> tuple[str, tuple[str, ...]]:
    """The event's name and its performers, as its category bills them."""
    if category == "SPORTS":
        home, away = team_name(rng, venue.city), team_name(rng, rng.choice(CITIES)[0])
        return f"{home} vs {away}", (home, away)
    if category == "FESTIVAL":
        billed = rng.choices(performers, cum_weights=weights, k=rng.randint(3, 8))
        acts = tuple(dict.fromkeys(billed))
        return f"{venue.city} {rng.choice(FESTIVAL_WORDS)} Festival", acts
    if category == "THEATRE":
        company = rng.choices(performers, cum_weights=weights)[0]
        return rng.choice(PLAYS), (company,)
    act = rng.choices(performers, cum_weights=weights)[0]
    if category == "COMEDY":
        return f"{act}: {rng.choice(COMEDY_SHOWS)}", (act,)
    if rng.random() < 0.4:
        return f"{act}: {rng.choice(TOUR_WORDS)} Tour", (act,)
    support = rng.choices(performers, cum_weights=weights)[0]
    return act, (act, support) if support != act and rng.random() < 0.3 else (act,)


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
