"""What `ticketing demo` puts into a stack, worked out before anything is sent: the events as rows
of the catalogue's import, the sellers, and each listing with the idempotency key it is created
with. Pure and deterministic: the same seed and start give the same plan, and the plan for N
events is the first N events of the plan for more (each event's listings come from a generator
of its own), so a larger run adds to a smaller one instead of changing it."""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from common.devstack.demo.catalogue import RawEvent, generate_events
from common.devstack.demo.prices import Seats, seats_for

DEFAULT_EVENTS = 300
DEFAULT_SEED = 1
SELLERS = 6
PERFORMERS = 150  # fixed, whatever the number of events: some tour, most play once or twice
DAYS = 150  # events start over about five months...
LEAD_DAYS = 14  # ...from two weeks after the start of the week the demo runs in
SELLER_PASSWORD = "demo-seller-password"
SELLER_DOMAIN = "demo.ticketing.test"
# How long each category's events last.
DURATION = {
    "CONCERT": timedelta(hours=3),
    "SPORTS": timedelta(hours=2),
    "THEATRE": timedelta(hours=2, minutes=30),
    "COMEDY": timedelta(hours=2),
    "FESTIVAL": timedelta(hours=9),
}
# Listings per event: a few have none, most a handful.
LISTINGS_PER_EVENT = (0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 8)


@dataclass(frozen=True)
class PlannedListing:
    external_ref: str  # the event's
    seller: int  # index into DemoPlan.sellers
    seats: Seats
    idempotency_key: str

    def identity(self) -> tuple[str, str | None, tuple[str, ...], str]:
        """What tells this listing from the plan's others of the same event, as the seller's
        own listings show it (section, row, seats, price)."""
        return (self.seats.section, self.seats.row, self.seats.seats, str(self.seats.price))


@dataclass(frozen=True)
class DemoPlan:
    seed: int
    events: list[RawEvent]
    rows: list[dict[str, object]]  # the import's rows, one per event, in order
    sellers: list[str]  # emails
    listings: list[PlannedListing]

    def search_hint(self) -> str:
        """A search a newcomer can type that finds several events: the first letters of each
        word of the performer with the most events ("arct mon" for Arctic Monkeys)."""
        counts = Counter(p for event in self.events for p in event.performers)
        if not counts:
            return ""
        performer = max(counts, key=lambda name: (counts[name], name))
        words = [word for word in performer.split() if word.lower() != "the"]
        return " ".join(plain(word)[:4] for word in words[:2])


def week_start(today: date) -> date:
    """The Monday of `today`'s week: the demo's dates stay put for a week of re-runs."""
    return today - timedelta(days=today.weekday())


def external_ref(seed: int, event: RawEvent) -> str:
    return f"demo-s{seed}-{event.event_id}"


def seller_email(number: int) -> str:
    return f"seller{number}@{SELLER_DOMAIN}"


def make_plan(events: int, seed: int, start: date) -> DemoPlan:
    """The demo of `events` events starting from LEAD_DAYS after `start`."""
    first_day = datetime.combine(start + timedelta(days=LEAD_DAYS), datetime.min.time())
    made = generate_events(
        random.Random(seed), events=events, performers=PERFORMERS, start=first_day, days=DAYS
    )
    sellers = [seller_email(n) for n in range(1, SELLERS + 1)]
    listings = [
        listing for event in made.events for listing in _listings_of(seed, event, len(sellers))
    ]
    rows = [import_row(seed, event) for event in made.events]
    return DemoPlan(seed, made.events, rows, sellers, listings)


def import_row(seed: int, event: RawEvent) -> dict[str, object]:
    """The event as a row of `ticketing catalogue import` (times local to the venue)."""
    ends_at = event.starts_at + DURATION[event.category]
    return {
        "external_ref": external_ref(seed, event),
        "name": event.name,
        "performers": list(event.performers),
        "venue_name": event.venue.name,
        "city": event.venue.city,
        "country": event.venue.country,
        "time_zone": event.venue.time_zone,
        "starts_at": event.starts_at.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": ends_at.strftime("%Y-%m-%dT%H:%M"),
        "category": event.category,
    }


def _listings_of(seed: int, event: RawEvent, sellers: int) -> list[PlannedListing]:
    ref = external_ref(seed, event)
    rng = random.Random(f"{ref}:listings")
    planned: list[PlannedListing] = []
    taken: set[tuple[str, str | None]] = set()
    for number in range(rng.choice(LISTINGS_PER_EVENT)):
        seats = seats_for(event.category, event.venue.country, rng)
        if seats.row is not None and (seats.section, seats.row) in taken:
            continue  # two sellers never list the same row's seats
        taken.add((seats.section, seats.row))
        key = f"{ref}-{number}"
        planned.append(PlannedListing(ref, rng.randrange(sellers), seats, key))
    return planned


def plain(word: str) -> str:
    """As most people type it: no accents, lower case."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
