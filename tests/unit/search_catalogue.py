# ruff: noqa: E501  (the table below reads best one event a line)
"""A small fixed catalogue for the search tests: 30 events in 12 cities, with accented names,
shared words ("Arctic Monkeys" in names and in performers, "Monkey" as a whole word), events
with nothing for sale, one cancelled and one postponed. Event `eNN` starts on day `day` after
BASE at 20:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from svc_catalogue.domain.search import (
    EventSearchIndex,
    SearchDocument,
    SearchFilter,
    SearchQuery,
    SearchResult,
)

BASE = datetime(2027, 1, 1, 20, 0, tzinfo=UTC)


def day(n: int) -> datetime:
    return BASE + timedelta(days=n)


# id, name, performers, venue, city, country, category, day, price (None: nothing for sale),
# tickets for sale, status
_ROWS: list[tuple] = [
    ("e01", "Arctic Monkeys", ("Arctic Monkeys",), "Hallenstadion", "Zürich", "CH", "CONCERT", 10, "89.00", 4, "SCHEDULED"),
    ("e02", "Arctic Monkeys", ("Arctic Monkeys",), "Accor Arena", "Paris", "FR", "CONCERT", 5, "120.00", 2, "SCHEDULED"),
    ("e03", "Beyoncé: Renaissance", ("Beyoncé",), "Stade de France", "Saint-Denis", "FR", "CONCERT", 30, "250.00", 10, "SCHEDULED"),
    ("e04", "Cirque du Soleil: Alegría", ("Cirque du Soleil",), "Centre Bell", "Montréal", "CA", "THEATRE", 20, "75.50", 6, "SCHEDULED"),
    ("e05", "Montreal Canadiens vs Boston Bruins", ("Montreal Canadiens", "Boston Bruins"), "Centre Bell", "Montréal", "CA", "SPORTS", 3, "60.00", 8, "SCHEDULED"),
    ("e06", "Monty Python Live", ("Monty Python",), "O2 Arena", "London", "GB", "COMEDY", 40, None, 0, "SCHEDULED"),
    ("e07", "Sigur Rós", ("Sigur Rós",), "Harpa", "Reykjavík", "IS", "CONCERT", 50, "95.00", 3, "SCHEDULED"),
    ("e08", "Zürich Openair", ("Arcade Fire", "Björk"), "Festivalgelände Rümlang", "Zürich", "CH", "FESTIVAL", 60, "150.00", 20, "SCHEDULED"),
    ("e09", "Björk Cornucopia", ("Björk",), "Hallenstadion", "Zürich", "CH", "CONCERT", 45, None, 0, "SCHEDULED"),
    ("e10", "FC Zürich vs FC Basel", ("FC Zürich", "FC Basel"), "Letzigrund", "Zürich", "CH", "SPORTS", 7, "35.00", 12, "SCHEDULED"),
    ("e11", "Hamlet", ("Royal Shakespeare Company",), "Barbican", "London", "GB", "THEATRE", 15, "45.00", 2, "SCHEDULED"),
    ("e12", "Monkey Business Comedy Night", ("Mona Lisa Smith",), "The Comedy Store", "London", "GB", "COMEDY", 12, "20.00", 5, "SCHEDULED"),
    ("e13", "Arcade Fire", ("Arcade Fire",), "Olympia", "Paris", "FR", "CONCERT", 25, "70.00", 1, "SCHEDULED"),
    ("e14", "Les Misérables", ("Les Misérables Cast",), "Sondheim Theatre", "London", "GB", "THEATRE", 18, "55.00", 7, "SCHEDULED"),
    ("e15", "Rosalía: Motomami", ("Rosalía",), "Palau Sant Jordi", "Barcelona", "ES", "CONCERT", 35, "80.00", 9, "SCHEDULED"),
    ("e16", "FC Barcelona vs Real Madrid", ("FC Barcelona", "Real Madrid"), "Camp Nou", "Barcelona", "ES", "SPORTS", 22, "180.00", 4, "SCHEDULED"),
    ("e17", "Primavera Sound", ("Arctic Monkeys", "Rosalía", "Björk"), "Parc del Fòrum", "Barcelona", "ES", "FESTIVAL", 70, "225.00", 15, "SCHEDULED"),
    ("e18", "Stromae: Multitude", ("Stromae",), "Centre Bell", "Montréal", "CA", "CONCERT", 28, "99.99", 3, "SCHEDULED"),
    ("e19", "Arctic Monkeys", ("Arctic Monkeys",), "Ziggo Dome", "Amsterdam", "NL", "CONCERT", 8, "70.00", 1, "CANCELLED"),
    ("e20", "Dave Chappelle", ("Dave Chappelle",), "Ziggo Dome", "Amsterdam", "NL", "COMEDY", 33, "65.00", 2, "SCHEDULED"),
    ("e21", "Ajax vs PSV", ("AFC Ajax", "PSV Eindhoven"), "Johan Cruijff ArenA", "Amsterdam", "NL", "SPORTS", 14, "40.00", 6, "SCHEDULED"),
    ("e22", "The Phantom of the Opera", ("Phantom Cast",), "His Majesty's Theatre", "London", "GB", "THEATRE", 9, None, 0, "SCHEDULED"),
    ("e23", "Mumford & Sons", ("Mumford & Sons",), "Accor Arena", "Paris", "FR", "CONCERT", 55, "68.00", 1, "SCHEDULED"),
    ("e24", "Montreux Jazz Festival", ("Herbie Hancock", "Diana Krall"), "Auditorium Stravinski", "Montreux", "CH", "FESTIVAL", 90, "130.00", 11, "SCHEDULED"),
    ("e25", "Céline Dion", ("Céline Dion",), "Centre Bell", "Montréal", "CA", "CONCERT", 100, "199.00", 2, "POSTPONED"),
    ("e26", "Trevor Noah", ("Trevor Noah",), "Hallenstadion", "Zürich", "CH", "COMEDY", 27, "59.00", 4, "SCHEDULED"),
    ("e27", "Swan Lake", ("Royal Ballet",), "Opernhaus Zürich", "Zürich", "CH", "THEATRE", 2, "110.00", 3, "SCHEDULED"),
    ("e28", "Roskilde Festival", ("Arctic Monkeys", "Sigur Rós"), "Dyrskuepladsen", "Roskilde", "DK", "FESTIVAL", 80, None, 0, "SCHEDULED"),
    ("e29", "Northern Lights", ("Arcticus",), "Harpa", "Reykjavík", "IS", "CONCERT", 6, "30.00", 2, "SCHEDULED"),
    ("e30", "Bellini: Norma", ("Anna Netrebko", "Orchestra Bellissima"), "Teatro alla Scala", "Milano", "IT", "THEATRE", 65, "140.00", 5, "SCHEDULED"),
]  # fmt: skip


def document(row: tuple) -> SearchDocument:
    event_id, name, performers, venue, city, country, category, days, price, tickets, status = row
    return SearchDocument(
        event_id=event_id,
        name=name,
        performers=performers,
        venue_name=venue,
        city=city,
        country=country,
        category=category,
        starts_at=day(days),
        status=status,
        lowest_price=Decimal(price) if price is not None else None,
        currency_code="EUR" if price is not None else "",
        tickets_for_sale=tickets,
    )


EVENTS: list[SearchDocument] = [document(row) for row in _ROWS]
BY_ID = {event.event_id: event for event in EVENTS}
# Every event a search shows by default: all but the cancelled one.
LISTED = [event for event in EVENTS if event.status != "CANCELLED"]


def find(index: EventSearchIndex, text: str = "", **options) -> SearchResult:
    """A search of up to 100 events; `where={...}` holds the filter's fields."""
    where = options.pop("where", {})
    return index.search(SearchQuery(text=text, filter=SearchFilter(**where), limit=100, **options))


def ids(index: EventSearchIndex, text: str = "", **options) -> list[str]:
    return find(index, text, **options).event_ids


def by_date(events: list[SearchDocument]) -> list[str]:
    return [e.event_id for e in sorted(events, key=lambda e: (e.starts_at, e.event_id))]
