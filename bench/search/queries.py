"""A deterministic mix of searches a visitor would type over a generated catalogue: 1 to 3 words
taken from a real event's name, performer, venue or city, typed as prefixes, with and without
accents and capitals; with and without filters; each sort; mostly the first page."""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import timedelta
from decimal import Decimal

from common.devstack.demo.names import CATEGORY_SHARES, CITIES
from svc_catalogue.domain.search import EventSort, SearchDocument, SearchFilter, SearchQuery

_WORD = re.compile(r"\w+")


def plain(word: str) -> str:
    """How many people type it: no accents, lower case."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def typed(rng: random.Random, words: list[str]) -> str:
    """Each word as a prefix (at least 2 letters; the last one more often cut short)."""
    out = []
    for n, word in enumerate(words):
        last = n == len(words) - 1
        if len(word) > 2 and rng.random() < (0.7 if last else 0.3):
            word = word[: rng.randint(2, len(word) - 1)]
        out.append(plain(word) if rng.random() < 0.6 else word)
    return " ".join(out)


def text_of(rng: random.Random, document: SearchDocument) -> str:
    source = rng.choices(
        [document.name, *document.performers[:1], document.venue_name, document.city],
        [4, 3, 1.5, 1.5][: 3 + bool(document.performers)],
    )[0]
    words = [w for w in _WORD.findall(source) if len(w) >= 2] or [document.city]
    count = min(rng.choice((1, 1, 2, 2, 2, 3)), len(words))
    first = rng.randrange(len(words) - count + 1)
    picked = words[first : first + count]
    if count < 3 and source != document.city and rng.random() < 0.15:
        picked.append(document.city)  # "arctic zurich"
    return typed(rng, picked)


def filter_for(rng: random.Random, document: SearchDocument) -> SearchFilter:
    chosen: dict = {}
    for _ in range(rng.choice((1, 1, 2))):
        kind = rng.choice(("city", "category", "dates", "price", "tickets"))
        if kind == "city":
            chosen["city"] = document.city if rng.random() < 0.5 else rng.choice(CITIES)[0]
        elif kind == "category":
            chosen["category"] = rng.choice(CATEGORY_SHARES)[0]
        elif kind == "dates":
            start = document.starts_at - timedelta(days=rng.randint(0, 60))
            chosen["starts_from"] = start
            chosen["starts_to"] = start + timedelta(days=rng.choice((7, 30, 90)))
        elif kind == "price":
            low = Decimal(rng.choice((0, 20, 50)))
            chosen["price_min"] = low
            chosen["price_max"] = low + Decimal(rng.choice((30, 100, 250)))
        else:
            chosen["has_tickets"] = True
    return SearchFilter(**chosen)


def query_mix(documents: list[SearchDocument], count: int, seed: int = 7) -> list[SearchQuery]:
    rng = random.Random(seed)
    listed = [d for d in documents if d.status != "CANCELLED"]
    queries = []
    for _ in range(count):
        document = rng.choice(listed)
        browse = rng.random() < 0.1  # no text: filters and a sort only
        text = "" if browse else text_of(rng, document)
        filtered = browse or rng.random() < 0.4
        queries.append(
            SearchQuery(
                text=text,
                filter=filter_for(rng, document) if filtered else SearchFilter(),
                sort=rng.choices(list(EventSort), [2, 1, 1])[0],
                offset=rng.choices((0, 20, 40), [17, 2, 1])[0],
                limit=20,
            )
        )
    return queries
