"""The hidden side of the synthetic marketplace: taste groups, artists, venues, concerts and the
tickets listed for them, and the people who buy and sell them. `generator.py` makes them act.

A taste group is a few artists (a genre), two or three home cities and a price band. An artist
belongs to one group; its popularity is Zipf-like across all artists, so a few are wanted by
everyone. A concert is an artist at a venue; its tickets are listed by sellers (a few power
sellers list most) at prices around the concert's, under titles like
"Artist Name — Venue, City" that each seller types a little differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CITIES = (
    "Berlin",
    "Lisbon",
    "Madrid",
    "Paris",
    "London",
    "Amsterdam",
    "Vienna",
    "Prague",
    "Milan",
    "Dublin",
    "Copenhagen",
    "Warsaw",
)
VENUE_KINDS = ("Arena", "Hall", "Theatre", "Club", "Stadium", "Ballroom", "Garden", "Pavilion")
VENUE_NAMES = (
    "Orpheum",
    "Riverside",
    "Palladium",
    "Roxy",
    "Empire",
    "Harbour",
    "Olympia",
    "Lyric",
    "Forum",
    "Apollo",
    "Electric",
    "Paradiso",
    "Union",
    "Crystal",
    "Majestic",
    "Victoria",
)
ADJECTIVES = (
    "Velvet", "Neon", "Silver", "Hollow", "Crimson", "Paper", "Electric", "Golden", "Quiet",
    "Wild", "Glass", "Midnight", "Broken", "Lunar", "Copper", "Northern", "Static", "Blue",
    "Wandering", "Burning",
)  # fmt: skip
NOUNS = (
    "Fox", "Harbor", "Lantern", "Tide", "Comet", "Orchard", "Engine", "Sparrow", "Mirror",
    "Canyon", "Falcon", "Signal", "Garden", "River", "Ghost", "Atlas", "Ember", "Parade",
    "Anchor", "Wolf",
)  # fmt: skip
FIRST_NAMES = (
    "Mara", "Jonas", "Ines", "Theo", "Lena", "Rafael", "Noor", "Elio", "Saskia", "Milo",
    "Ada", "Tomas", "Yara", "Felix", "Zoe", "Ivo", "Clara", "Kian", "Nadia", "Oskar",
)  # fmt: skip
LAST_NAMES = (
    "Quinn", "Varga", "Holm", "Moreau", "Castell", "Novak", "Brandt", "Okafor", "Lindqvist",
    "Serra", "Kowalski", "Duarte", "Fischer", "Byrne", "Rossi", "Haas", "Petrov", "Laine",
    "Aalto", "Costa",
)  # fmt: skip
# The catalogue category of a group's events.
CATEGORIES = ("CONCERT", "FESTIVAL", "COMEDY", "THEATRE")
# Price bands of the groups (low, high), in the marketplace's currency.
BANDS = ((15.0, 45.0), (40.0, 110.0), (90.0, 300.0))


@dataclass(frozen=True)
class WorldSpec:
    seed: int = 7
    groups: int = 8
    artists_per_group: int = 8
    home_cities: int = 3
    venues_per_city: int = 3
    concerts_per_artist: tuple[int, int] = (3, 6)
    tickets_per_concert: float = 35.0  # mean, scaled by the artist's popularity
    users: int = 3000
    seller_share: float = 0.15
    second_group_share: float = 0.25
    anonymous_visitors: int = 1000
    days: float = 60.0


@dataclass(frozen=True)
class Group:
    number: int
    artists: tuple[int, ...]
    cities: tuple[str, ...]
    band: tuple[float, float]


@dataclass(frozen=True)
class Artist:
    number: int
    name: str
    group: int
    popularity: float  # (0, 1], Zipf-like over all artists


@dataclass(frozen=True)
class Concert:
    """An event of the catalogue: an artist (and now and then a support act of the same group)
    at a venue, on sale from `on_sale_day`, starting after the span."""

    number: int
    artist: int
    venue: str
    city: str
    price: float
    on_sale_day: float
    support: int | None = None
    starts_day: float = 0.0

    @property
    def event_id(self) -> str:
        return f"ev{self.number:04d}"

    @property
    def performers(self) -> tuple[int, ...]:
        return (self.artist,) if self.support is None else (self.artist, self.support)


@dataclass(frozen=True)
class Ticket:
    id: str
    concert: int
    seller: str
    title: str
    price: float
    listed_day: float


@dataclass(frozen=True)
class Person:
    id: str | None  # None for a visitor who never signs up
    groups: tuple[int, ...]
    cities: tuple[str, ...]
    band: tuple[float, float]
    activity: float  # sessions over the whole span, Pareto: a few power users
    joined_day: float
    anonymous_id: str  # the visitor's cookie, sent before and after signing up
    signed_up_day: float  # before it, a person browses anonymously


@dataclass
class World:
    spec: WorldSpec
    groups: list[Group] = field(default_factory=list)
    artists: list[Artist] = field(default_factory=list)
    concerts: list[Concert] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    sellers: list[str] = field(default_factory=list)

    def category_of(self, concert: Concert) -> str:
        return CATEGORIES[self.artists[concert.artist].group % len(CATEGORIES)]

    def group_of_event(self, event_id: str) -> int:
        return self.artists[self.concerts[int(event_id[2:])].artist].group

    def group_of_ticket(self, ticket_id: str) -> int:
        return self._ticket_groups()[ticket_id]

    def _ticket_groups(self) -> dict[str, int]:
        cached = getattr(self, "_groups_cache", None)
        if cached is None:
            cached = {
                t.id: self.artists[self.concerts[t.concert].artist].group for t in self.tickets
            }
            self._groups_cache = cached
        return cached


def _names(rng: np.random.Generator, count: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        if rng.random() < 0.5:
            name = f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}s"
        else:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _title(rng: np.random.Generator, artist: str, venue: str, city: str) -> str:
    """How a seller types it: mostly the canonical form, sometimes not."""
    roll = rng.random()
    if roll < 0.65:
        return f"{artist} — {venue}, {city}"
    if roll < 0.75:
        return f"{artist} - {venue} {city}"
    if roll < 0.85:
        return f"{artist.lower()} @ {venue.lower()}, {city.lower()}"
    if roll < 0.93:
        return f"2x {artist} tickets — {venue}, {city}"
    return f"{artist} live in {city} ({venue})"


def build(spec: WorldSpec) -> World:
    rng = np.random.default_rng(spec.seed)
    world = World(spec)
    venues = [
        (f"{name} {kind}", city)
        for city in CITIES
        for name, kind in zip(
            rng.choice(VENUE_NAMES, spec.venues_per_city, replace=False),
            rng.choice(VENUE_KINDS, spec.venues_per_city, replace=False),
            strict=True,
        )
    ]
    n_artists = spec.groups * spec.artists_per_group
    names = _names(rng, n_artists)
    ranks = rng.permutation(n_artists) + 1
    for group in range(spec.groups):
        members = tuple(range(group * spec.artists_per_group, (group + 1) * spec.artists_per_group))
        cities = tuple(str(c) for c in rng.choice(CITIES, spec.home_cities, replace=False))
        world.groups.append(Group(group, members, cities, BANDS[group % len(BANDS)]))
        for a in members:
            world.artists.append(Artist(a, names[a], group, float(ranks[a] ** -0.8)))

    for artist in world.artists:
        group = world.groups[artist.group]
        low, high = group.band
        for _ in range(rng.integers(*spec.concerts_per_artist, endpoint=True)):
            home = [v for v in venues if v[1] in group.cities]
            venue, city = (
                home[rng.integers(len(home))]
                if rng.random() < 0.6
                else venues[rng.integers(len(venues))]
            )
            price = float(np.exp(rng.uniform(np.log(low), np.log(high))))
            on_sale = float(rng.uniform(0, spec.days * 0.8))
            world.concerts.append(
                Concert(len(world.concerts), artist.number, venue, city, price, on_sale)
            )

    _add_support_acts(world, np.random.default_rng(spec.seed + 100))

    people_ids = [f"u{n:05d}" for n in range(spec.users)]
    sellers = [p for p in people_ids if rng.random() < spec.seller_share]
    world.sellers = sellers
    seller_weights = 1.0 / np.arange(1, len(sellers) + 1) ** 0.9
    seller_weights /= seller_weights.sum()

    for concert in world.concerts:
        artist = world.artists[concert.artist]
        mean = spec.tickets_per_concert * (0.3 + 1.5 * artist.popularity)
        for _ in range(1 + rng.poisson(mean)):
            seller = sellers[rng.choice(len(sellers), p=seller_weights)]
            price = round(concert.price * float(rng.lognormal(0.0, 0.3)), 2)
            listed = min(concert.on_sale_day + float(rng.exponential(5.0)), spec.days)
            title = _title(rng, artist.name, concert.venue, concert.city)
            ticket_id = f"t{len(world.tickets):05d}"
            world.tickets.append(Ticket(ticket_id, concert.number, seller, title, price, listed))

    for person_id in people_ids:
        primary = int(rng.integers(spec.groups))
        groups = (primary,)
        if rng.random() < spec.second_group_share:
            groups += (int(rng.integers(spec.groups)),)
        home = world.groups[primary].cities
        cities = tuple(home[: 2 if rng.random() < 0.5 else 3])
        joined = float(rng.uniform(0, spec.days))
        browses_first = rng.random() < 0.3
        signed_up = joined + (float(rng.exponential(3.0)) if browses_first else 0.0)
        world.people.append(
            Person(
                id=person_id,
                groups=groups,
                cities=cities,
                band=world.groups[primary].band,
                activity=float(min(2.0 * (1 + rng.pareto(1.5)), 80.0)),
                joined_day=joined,
                anonymous_id=f"anon-{person_id}",
                signed_up_day=min(signed_up, spec.days),
            )
        )
    for n in range(spec.anonymous_visitors):
        primary = int(rng.integers(spec.groups))
        world.people.append(
            Person(
                id=None,
                groups=(primary,),
                cities=world.groups[primary].cities[:2],
                band=world.groups[primary].band,
                activity=float(1 + rng.poisson(1.0)),
                joined_day=float(rng.uniform(0, spec.days)),
                anonymous_id=f"anon-v{n:05d}",
                signed_up_day=float("inf"),
            )
        )
    return world


def _add_support_acts(world: World, rng: np.random.Generator) -> None:
    """A third of the concerts get a support act of the artist's group, and every concert a
    start after the span; drawn from a generator of their own, so the rest of the world is the
    one it was before concerts were catalogue events."""
    for i, concert in enumerate(world.concerts):
        group = world.groups[world.artists[concert.artist].group]
        others = [a for a in group.artists if a != concert.artist]
        support = int(rng.choice(others)) if others and rng.random() < 0.35 else None
        starts = world.spec.days + float(rng.uniform(5.0, 120.0))
        world.concerts[i] = Concert(
            concert.number,
            concert.artist,
            concert.venue,
            concert.city,
            concert.price,
            concert.on_sale_day,
            support,
            starts,
        )
