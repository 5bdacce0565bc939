"""A synthetic marketplace's interaction log, in the shape of the `events` table's rows.

`generate(spec)` builds a world (world.py) and plays it forward in time: tickets are listed as
their concerts go on sale; people (and visitors who never sign up) come back in sessions, a few
far more often than the rest. A session browses a list, picks an artist (mostly from the
person's taste group and favourites, sometimes a chart-topper, sometimes anything), looks at a
few tickets of one of its concerts that are for sale at that moment (nearer home and nearer the
person's budget more likely), and now and then orders one and pays, or lets the order expire or
cancels it (the ticket is for sale again). Everything is drawn from one seeded generator: the
same spec gives the same rows.

Concerts are catalogue events: an `event.changed` row when one goes on sale (its performers,
category, city and start in `detail`), every ticket row names its concert's event
(`catalogue_event_id`), and a session records an `event.viewed` of a concert before looking at its
tickets. These rows draw nothing from the generator, so the tickets' log is the one it was before.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from bench.recs.world import Concert, Person, Ticket, World, WorldSpec, build
from svc_insights.domain.model import EventRow

START = datetime(2026, 1, 1)
HOLD = timedelta(minutes=15)
DAY = 86_400.0
ORDER_RATE = 0.12
PAY_RATE = 0.8


@dataclass
class Generated:
    world: World
    rows: list[EventRow]

    def at(self, day: float) -> datetime:
        return START + timedelta(days=day)


def fit(price: float, band: tuple[float, float]) -> float:
    """How well a price suits a budget: 1 inside the band, falling off outside it."""
    low, high = band
    if low <= price <= high:
        return 1.0
    gap = np.log(low / price) if price < low else np.log(price / high)
    return float(np.exp(-((gap / 0.35) ** 2)))


class Simulation:
    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = np.random.default_rng(world.spec.seed + 1)
        self.rows: list[tuple[float, int, EventRow]] = []
        self.seq = 0
        self.for_sale: dict[int, set[str]] = {c.number: set() for c in world.concerts}
        self.tickets = {t.id: t for t in world.tickets}
        self.versions: dict[str, int] = {}
        self.queue: list[tuple[float, int, str, object]] = []
        self.orders = 0
        self.concerts_of: dict[int, list[int]] = {}
        for concert in world.concerts:
            self.concerts_of.setdefault(concert.artist, []).append(concert.number)
        popularity = np.array([a.popularity for a in world.artists])
        self.chart = popularity**1.5 / (popularity**1.5).sum()
        self.favourites: dict[str, np.ndarray] = {}
        self.buyers: dict[str, str | None] = {}  # orders not paid, until released

    # -- output ---------------------------------------------------------------------------------
    def emit(self, at: float, type_: str, **columns: object) -> None:
        self.seq += 1
        when = START + timedelta(seconds=at)
        self.rows.append((at, self.seq, EventRow(f"e{self.seq:07d}", type_, when, **columns)))

    def ticket_row(self, at: float, type_: str, ticket: Ticket, order_id: str) -> None:
        version = self.versions.get(ticket.id, -1) + 1
        self.versions[ticket.id] = version
        self.emit(
            at,
            type_,
            user_id=ticket.seller,
            ticket_id=ticket.id,
            order_id=order_id,
            seller_id=ticket.seller,
            price=Decimal(f"{ticket.price:.2f}"),
            title=ticket.title,
            version=version,
            catalogue_event_id=self.world.concerts[ticket.concert].event_id,
        )

    def event_row(self, at: float, concert: Concert) -> None:
        """The catalogue's event.changed, as insights keeps it."""
        world = self.world
        detail = {
            "eventId": concert.event_id,
            "version": 0,
            "status": "SCHEDULED",
            "performers": [f"performer:{world.artists[a].number}" for a in concert.performers],
            "category": world.category_of(concert),
            "city": concert.city,
            "startsAt": (START + timedelta(days=concert.starts_day)).isoformat() + "Z",
        }
        self.emit(at, "event.changed", detail=json.dumps(detail, sort_keys=True))

    # -- the clock ------------------------------------------------------------------------------
    def schedule(self, at: float, action: str, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, action, payload))

    def run(self) -> list[EventRow]:
        spec = self.world.spec
        for concert in self.world.concerts:
            self.schedule(concert.on_sale_day * DAY, "catalogue", concert)
        for ticket in self.world.tickets:
            self.schedule(ticket.listed_day * DAY, "list", ticket)
        for person in self.world.people:
            if person.id is not None:
                self.schedule(person.signed_up_day * DAY, "sign_up", person)
            sessions = max(1, int(self.rng.poisson(person.activity)))
            for start in self.rng.uniform(person.joined_day, spec.days, sessions):
                self.schedule(float(start) * DAY, "session", person)
        while self.queue:
            at, _, action, payload = heapq.heappop(self.queue)
            if action == "catalogue":
                assert isinstance(payload, Concert)
                self.event_row(at, payload)
            elif action == "list":
                assert isinstance(payload, Ticket)
                self.ticket_row(at, "ticket.created", payload, "")
                self.for_sale[payload.concert].add(payload.id)
            elif action == "release":
                ticket_id, order_id, reason = payload  # type: ignore[misc]
                ticket = self.tickets[ticket_id]
                buyer = self.buyers.pop(order_id)
                self.emit(at, "order.cancelled", user_id=buyer, order_id=order_id, detail=reason)
                self.ticket_row(at, "ticket.updated", ticket, "")
                self.for_sale[ticket.concert].add(ticket_id)
            elif action == "sign_up":
                assert isinstance(payload, Person)
                self.emit(at, "user.created", user_id=payload.id)
            else:
                assert isinstance(payload, Person)
                self.session(at, payload)
        self.rows.sort(key=lambda item: (item[0], item[1]))
        return [row for _, _, row in self.rows]

    # -- behaviour ------------------------------------------------------------------------------
    def artist_for(self, person: Person) -> int:
        roll = self.rng.random()
        if roll < 0.72:
            group = person.groups[0]
            if len(person.groups) > 1 and self.rng.random() < 0.35:
                group = person.groups[1]
            weights = self.favourites_of(person, group)
            artists = self.world.groups[group].artists
            return int(artists[self.rng.choice(len(artists), p=weights)])
        if roll < 0.9:
            return int(self.rng.choice(len(self.world.artists), p=self.chart))
        return int(self.rng.integers(len(self.world.artists)))

    def favourites_of(self, person: Person, group: int) -> np.ndarray:
        """A person's own favourites within a group: popular artists, unevenly loved."""
        key = f"{person.anonymous_id}:{group}"
        if key not in self.favourites:
            artists = self.world.groups[group].artists
            base = np.array([self.world.artists[a].popularity for a in artists]) ** 0.5
            weights = base * self.rng.gamma(0.6, 1.0, len(artists))
            self.favourites[key] = weights / weights.sum()
        return self.favourites[key]

    def session(self, at: float, person: Person) -> None:
        signed_in = person.id is not None and at >= person.signed_up_day * DAY
        who = {"user_id": person.id if signed_in else None, "anonymous_id": person.anonymous_id}
        self.emit(at, "tickets.browsed", **who, detail='{"first": 20}')
        viewed: list[str] = []
        for _ in range(1 + int(self.rng.random() < 0.3)):
            concert = self.concert_for(person)
            if concert is None:
                continue
            event_id = self.world.concerts[concert].event_id
            self.emit(at + 1.0, "event.viewed", **who, catalogue_event_id=event_id)
            choices = sorted(self.for_sale[concert] - {*viewed})
            if not choices:
                continue
            weights = np.array([fit(self.tickets[t].price, person.band) + 0.05 for t in choices])
            count = min(len(choices), 1 + int(self.rng.geometric(0.45)))
            picked = self.rng.choice(len(choices), count, replace=False, p=weights / weights.sum())
            for i in picked:
                at += float(self.rng.exponential(40.0)) + 2.0
                self.emit(at, "ticket.viewed", **who, ticket_id=choices[i])
                viewed.append(choices[i])
        if not viewed or not signed_in or person.id in self.seller_of(viewed):
            return
        suits = {t: fit(self.tickets[t].price, person.band) for t in viewed}
        best = max(viewed, key=lambda t: suits[t] * self.rng.random())
        if self.rng.random() < ORDER_RATE * (0.5 + suits[best]):
            self.order(at + 20.0, person, best, who)

    def seller_of(self, viewed: list[str]) -> set[str]:
        return {self.tickets[t].seller for t in viewed}

    def concert_for(self, person: Person) -> int | None:
        for _ in range(3):
            artist = self.artist_for(person)
            open_concerts = [c for c in self.concerts_of[artist] if self.for_sale[c]]
            if not open_concerts:
                continue
            cities = [self.world.concerts[c].city for c in open_concerts]
            weights = np.array([3.0 if city in person.cities else 1.0 for city in cities])
            return open_concerts[self.rng.choice(len(open_concerts), p=weights / weights.sum())]
        return None

    def order(self, at: float, person: Person, ticket_id: str, who: dict) -> None:
        ticket = self.tickets[ticket_id]
        self.orders += 1
        order_id = f"o{self.orders:06d}"
        price = Decimal(f"{ticket.price:.2f}")
        self.emit(at, "order.started", **who, ticket_id=ticket_id)
        self.emit(
            at + 0.5,
            "order.created",
            user_id=person.id,
            ticket_id=ticket_id,
            order_id=order_id,
            price=price,
            version=0,
        )
        self.ticket_row(at + 0.6, "ticket.updated", ticket, order_id)
        self.for_sale[ticket.concert].discard(ticket_id)
        roll = self.rng.random()
        if roll < PAY_RATE:
            paid_at = at + float(self.rng.uniform(30, 120))
            self.emit(paid_at, "charge.created", order_id=order_id, detail=f"ch_{order_id}")
        else:
            self.buyers[order_id] = person.id
            expires = roll < PAY_RATE + (1 - PAY_RATE) * 0.7
            reason = "EXPIRED" if expires else "CANCELLED_BY_USER"
            released = at + (HOLD.total_seconds() if expires else 120.0)
            self.schedule(released, "release", (ticket_id, order_id, reason))


def generate(spec: WorldSpec | None = None) -> Generated:
    world = build(spec or WorldSpec())
    simulation = Simulation(world)
    return Generated(world, simulation.run())
