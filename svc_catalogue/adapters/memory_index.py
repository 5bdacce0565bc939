"""An `EventSearchIndex` in a dict: every search scans every document. For the unit tests, and
the service's index until the tantivy one (docs/design/marketplace.md, decision 4) is wired in;
fine for a few thousand events, not for the bench's 10,000 at 300 searches/s.

Matching as the contract says: each query word is a prefix of some word of the event's name,
performers, venue or city, case- and accent-insensitive ("zur" finds "Zürich"). Relevance: more
query words matching a whole word first, then the soonest."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from decimal import Decimal

from svc_catalogue.domain.search import (
    EventSort,
    FacetCount,
    SearchDocument,
    SearchFilter,
    SearchQuery,
    SearchResult,
)

_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower case without accents: "Zürich" -> "zurich"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


class _Entry:
    __slots__ = ("document", "words")

    def __init__(self, document: SearchDocument) -> None:
        self.document = document
        text = " ".join([document.name, *document.performers, document.venue_name, document.city])
        self.words = frozenset(words(text))


class MemoryEventIndex:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def upsert(self, documents: list[SearchDocument]) -> None:
        for document in documents:
            self._entries[document.event_id] = _Entry(document)

    def remove(self, event_ids: list[str]) -> None:
        for event_id in event_ids:
            self._entries.pop(event_id, None)

    def refresh(self) -> None:
        """Changes are visible at once."""

    def __len__(self) -> int:
        return len(self._entries)

    def search(self, query: SearchQuery) -> SearchResult:
        terms = words(query.text)
        matched: list[tuple[int, _Entry]] = []
        for entry in self._entries.values():
            doc = entry.document
            if doc.status == "CANCELLED" and not query.include_cancelled:
                continue
            if not _passes(doc, query.filter):
                continue
            score = _score(entry.words, terms)
            if score is not None:
                matched.append((score, entry))
        matched.sort(key=_order(query.sort, bool(terms)))
        page = matched[query.offset : query.offset + query.limit]
        return SearchResult(
            event_ids=[entry.document.event_id for _, entry in page],
            total=len(matched),
            categories=_facet(entry.document.category for _, entry in matched),
            cities=_facet(entry.document.city for _, entry in matched),
        )


def _score(event_words: frozenset[str], terms: list[str]) -> int | None:
    """How many terms match a whole word; None when a term is the prefix of no word."""
    exact = 0
    for term in terms:
        if term in event_words:
            exact += 1
        elif not any(word.startswith(term) for word in event_words):
            return None
    return exact


def _passes(doc: SearchDocument, wanted: SearchFilter) -> bool:
    price = doc.lowest_price
    checks = (
        wanted.city is None or fold(doc.city) == fold(wanted.city),
        wanted.category is None or doc.category == wanted.category,
        wanted.starts_from is None or doc.starts_at >= wanted.starts_from,
        wanted.starts_to is None or doc.starts_at < wanted.starts_to,
        wanted.price_min is None or (price is not None and price >= wanted.price_min),
        wanted.price_max is None or (price is not None and price <= wanted.price_max),
        wanted.has_tickets is None or (doc.tickets_for_sale > 0) == wanted.has_tickets,
    )
    return all(checks)


def _order(sort: EventSort, has_terms: bool):
    def by_date(item: tuple[int, _Entry]) -> tuple:
        doc = item[1].document
        return (doc.starts_at, fold(doc.name), doc.event_id)

    if sort is EventSort.PRICE:

        def by_price(item: tuple[int, _Entry]) -> tuple:
            price = item[1].document.lowest_price
            return (price is None, price if price is not None else Decimal(0), *by_date(item))

        return by_price
    if sort is EventSort.RELEVANCE and has_terms:
        return lambda item: (-item[0], *by_date(item))
    return by_date


def _facet(values) -> list[FacetCount]:
    counts = Counter(values)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [FacetCount(value, count) for value, count in ranked]
