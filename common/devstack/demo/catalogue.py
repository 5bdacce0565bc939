"""A deterministic, realistic set of events: performers (a few popular, many not), venues in 40
cities (many spelt with accents), five categories, start times spread over days. What
`ticketing demo` imports into a running stack and the search benchmark indexes
(bench/search/catalogue.py adds its listings). The same seed and arguments give the same events.

`generate_events` draws from the `random.Random` it is given, in a fixed order, so a caller that
goes on drawing from it (the benchmark's listings) gets the same sequence every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from common.devstack.demo.names import (
    CATEGORY_SHARES,
    CITIES,
    COMEDY_SHOWS,
    FESTIVAL_WORDS,
    FIRST_NAMES,
    LAST_NAMES,
    PLAYS,
    TIME_ZONES,
    TOUR_WORDS,
    band_name,
    team_name,
    venue_names,
)

STATUS_SHARES = (
    ("SCHEDULED", 0.95),
    ("POSTPONED", 0.02),
    ("RESCHEDULED", 0.01),
    ("CANCELLED", 0.02),
)


@dataclass(frozen=True)
class Venue:
    name: str
    city: str
    country: str

    @property
    def time_zone(self) -> str:
        return TIME_ZONES[self.city]


@dataclass(frozen=True)
class RawEvent:
    event_id: str
    name: str
    performers: tuple[str, ...]
    venue: Venue
    category: str
    # The wall-clock start, in UTC for the benchmark's index, read as the venue's local time by
    # the demo's import.
    starts_at: datetime
    status: str


@dataclass(frozen=True)
class GeneratedEvents:
    events: list[RawEvent]
    venues: list[Venue]
    performers: list[str]


def generate_events(
    rng: random.Random, *, events: int, performers: int, start: datetime, days: int
) -> GeneratedEvents:
    """`events` events of `performers` performers, starting on one of the `days` days from
    `start`, at an hour a show starts."""
    venues = [
        Venue(name, city, country)
        for city, country in CITIES
        for name in venue_names(rng, city, country, rng.randint(3, 6))
    ]
    acts = _performers(rng, performers)
    # Popularity: a few performers and venues get most events (Zipf-like weights).
    performer_weights = list(accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(acts))))
    venue_weights = list(accumulate(1 / (rank + 1) ** 0.5 for rank in range(len(venues))))
    rng.shuffle(venues)
    categories = [c for c, _ in CATEGORY_SHARES]
    category_weights = [w for _, w in CATEGORY_SHARES]
    statuses = [s for s, _ in STATUS_SHARES]
    status_weights = [w for _, w in STATUS_SHARES]
    made = []
    for n in range(events):
        venue = rng.choices(venues, cum_weights=venue_weights)[0]
        category = rng.choices(categories, category_weights)[0]
        name, billed = _billing(rng, category, venue, acts, performer_weights)
        starts_at = start + timedelta(
            days=rng.randrange(days), hours=rng.choice((14, 18, 19, 19, 20, 20, 21))
        )
        status = rng.choices(statuses, status_weights)[0]
        made.append(RawEvent(f"evt-{n:05d}", name, billed, venue, category, starts_at, status))
    return GeneratedEvents(made, venues, acts)


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
