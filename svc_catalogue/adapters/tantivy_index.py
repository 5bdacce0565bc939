"""The event search read model in tantivy, in RAM (docs/design/marketplace.md, decision 4).

One document per event. The text fields (name, performers, venue, city) are folded by the
analyzer of `search_text`; filters are term and range queries on fast fields; facets are
tantivy's terms aggregations over the whole match; the page is tantivy's top-k, by score or by
a fast field.

Ranking (RELEVANCE): every query word must be a prefix of a word in one of the four fields.
A word that is a whole word of the event adds EXACT_WORD (so more exact words always rank
first), then BM25 of those exact words (name and performers weighted over venue and city), then
a small constant per field a prefix matched in (same weights), then the soonest date.

Threads: upsert, remove and refresh come from one writer at a time (a lock keeps them in turn
anyway); search runs from any thread on the searcher the last refresh made (tantivy's searchers
are immutable snapshots, and both search and aggregate release the GIL).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

import tantivy
from tantivy import FieldType, Occur, Order, Query

from common.errors import InvalidInput
from svc_catalogue.adapters.search_text import (
    FOLDED,
    city_key,
    folded_analyzer,
    query_words,
)
from svc_catalogue.domain.search import (
    EventSort,
    FacetCount,
    SearchDocument,
    SearchFilter,
    SearchQuery,
    SearchResult,
)

# Text fields searched, with their weight: the BM25 boost of an exact word and the score of a
# prefix found there.
TEXT_FIELDS = {"name": 3.0, "performers": 3.0, "venue_name": 1.0, "city": 1.0}
# Added once per query word found as a whole word: larger than any BM25 and prefix sum a word
# can make, so the number of exact words decides first.
EXACT_WORD = 1000.0

CANCELLED = "CANCELLED"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

# The sort orders, each one u64 fast field so tantivy's top-k sorts by it alone:
# DATE: the start in seconds in the high 34 bits, the event's doc_key in the low 30 (so events
# starting together keep one order from page to page, whatever tantivy merges between);
# PRICE: cents in the high 30 bits (no price: the largest, so last), the start in seconds in the
# low 34 (so equal prices go soonest first).
_SECONDS_BITS = 34
_SECONDS_MAX = (1 << _SECONDS_BITS) - 1
_KEY_MASK = (1 << 30) - 1
_CENTS_NONE = (1 << 30) - 1

# Terms aggregations report at most this many values; exact while a facet has fewer.
_FACET_SIZE = 65_000
# The writer's memory budget (one indexing thread): a 10,000-event catalogue needs a fraction.
_WRITER_HEAP_BYTES = 50_000_000


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("event_id", tokenizer_name="raw")  # upsert's and remove's key
    builder.add_unsigned_field("doc_key", fast=True)  # → event_id, read per hit
    for name in TEXT_FIELDS:
        # "freq": BM25 needs term frequencies, nothing here needs positions.
        builder.add_text_field(name, tokenizer_name=FOLDED, index_option="freq")
    builder.add_text_field("city_key", tokenizer_name="raw")
    builder.add_text_field("city_display", tokenizer_name="raw", fast=True)
    builder.add_text_field("category", tokenizer_name="raw", fast=True)
    builder.add_text_field("status", tokenizer_name="raw")
    builder.add_integer_field("starts_us", indexed=True, fast=True)
    builder.add_integer_field("price_milli", indexed=True, fast=True)  # absent: nothing for sale
    builder.add_unsigned_field("tickets", indexed=True, fast=True)
    builder.add_unsigned_field("date_order", fast=True)
    builder.add_unsigned_field("price_order", fast=True)
    return builder.build()


def micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // MICROSECOND


def milli(amount: Decimal, rounding: str = ROUND_HALF_UP) -> int:
    """Thousandths of the currency's unit: exact for every ISO 4217 currency."""
    return int((amount * 1000).to_integral_value(rounding))


def start_seconds(document: SearchDocument) -> int:
    return min(max(micros(document.starts_at) // 1_000_000, 0), _SECONDS_MAX)


def date_order(document: SearchDocument, doc_key: int) -> int:
    return (start_seconds(document) << 30) | (doc_key & _KEY_MASK)


def price_order(document: SearchDocument) -> int:
    if document.lowest_price is None:
        cents = _CENTS_NONE
    else:
        cents = min(max(milli(document.lowest_price) // 10, 0), _CENTS_NONE - 1)
    return (cents << _SECONDS_BITS) | start_seconds(document)


class TantivyEventIndex:
    """`EventSearchIndex` (svc_catalogue/domain/search.py) over a tantivy index in RAM."""

    def __init__(self, writer_heap_bytes: int = _WRITER_HEAP_BYTES) -> None:
        self._schema = build_schema()
        self._index = tantivy.Index(self._schema)  # no path: in RAM
        self._index.register_tokenizer(FOLDED, folded_analyzer())
        # Manual: a new searcher only when `refresh` says so.
        self._index.config_reader(reload_policy="Manual")
        self._writer = self._index.writer(writer_heap_bytes, 1)
        self._write_lock = threading.Lock()
        # A doc_key per event id, never reused: a searcher older than a remove still maps its
        # hits to their ids.
        self._key_of: dict[str, int] = {}
        self._event_ids: list[str] = []
        self._searcher = self._index.searcher()

    # -- writes ---------------------------------------------------------------------------

    def upsert(self, documents: list[SearchDocument]) -> None:
        with self._write_lock:
            for document in documents:
                self._writer.delete_documents_by_term("event_id", document.event_id)
                self._writer.add_document(self._to_tantivy(document))

    def remove(self, event_ids: list[str]) -> None:
        with self._write_lock:
            for event_id in event_ids:
                self._writer.delete_documents_by_term("event_id", event_id)

    def refresh(self) -> None:
        with self._write_lock:
            self._writer.commit()
            self._index.reload()
            self._searcher = self._index.searcher()

    def __len__(self) -> int:
        return self._searcher.num_docs

    def _key(self, event_id: str) -> int:
        key = self._key_of.get(event_id)
        if key is None:
            key = len(self._event_ids)
            self._event_ids.append(event_id)
            self._key_of[event_id] = key
        return key

    def _to_tantivy(self, document: SearchDocument) -> tantivy.Document:
        doc = tantivy.Document()
        doc_key = self._key(document.event_id)
        doc.add_text("event_id", document.event_id)
        doc.add_unsigned("doc_key", doc_key)
        doc.add_text("name", document.name)
        for performer in document.performers:
            doc.add_text("performers", performer)
        doc.add_text("venue_name", document.venue_name)
        doc.add_text("city", document.city)
        doc.add_text("city_key", city_key(document.city))
        doc.add_text("city_display", document.city)
        doc.add_text("category", document.category)
        doc.add_text("status", document.status)
        doc.add_integer("starts_us", micros(document.starts_at))
        if document.lowest_price is not None:
            doc.add_integer("price_milli", milli(document.lowest_price))
        doc.add_unsigned("tickets", max(document.tickets_for_sale, 0))
        doc.add_unsigned("date_order", date_order(document, doc_key))
        doc.add_unsigned("price_order", price_order(document))
        return doc

    # -- reads ----------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        if query.offset < 0:
            raise InvalidInput("offset cannot be negative", field="offset")
        if query.limit < 0:
            raise InvalidInput("limit cannot be negative", field="limit")
        searcher = self._searcher  # one snapshot for the page, the count and the facets
        words = query_words(query.text)
        matches = self._matching(words, query.filter, query.include_cancelled)
        sort = query.sort
        if sort is EventSort.RELEVANCE and not words:
            sort = EventSort.DATE
        # tantivy's top-k wants a limit of at least 1 and allocates offset + limit: neither
        # needs to exceed the number of documents.
        size = max(searcher.num_docs, 1)
        offset, limit = min(query.offset, size), min(query.limit, size)
        if sort is EventSort.RELEVANCE:
            total, keys = self._by_relevance(searcher, matches, offset, limit)
        else:
            field = "date_order" if sort is EventSort.DATE else "price_order"
            found = searcher.search(
                matches, max(limit, 1), offset=offset, order_by_field=field, order=Order.Asc
            )
            total = found.count or 0
            hits = found.hits[:limit]
            keys = [int(k) for k in searcher.fast_field_values("doc_key", [a for _, a in hits])]
        categories, cities = self._facets(searcher, matches) if total else ([], [])
        return SearchResult(
            event_ids=[self._event_ids[key] for key in keys],
            total=total,
            categories=categories,
            cities=cities,
        )

    def _matching(self, words: list[str], where: SearchFilter, include_cancelled: bool) -> Query:
        clauses: list[tuple[Occur, Query]] = [(Occur.Must, Query.all_query())]
        clauses += [(Occur.Must, self._word(word)) for word in words]
        clauses += [(Occur.Must, Query.const_score_query(q, 0.0)) for q in self._filters(where)]
        if not include_cancelled:
            clauses.append((Occur.MustNot, Query.term_query(self._schema, "status", CANCELLED)))
        return Query.boolean_query(clauses)

    def _word(self, word: str) -> Query:
        """Required: `word` starts a word of some text field. Scored as the module says."""
        schema = self._schema
        # A prefix query is a fuzzy term query at distance 0 with `prefix`: the word is taken
        # literally (no pattern to escape), and its automaton is built as the search runs, where
        # a regex query compiles its pattern when made (~0.2 ms a field and word).
        prefix_in = [
            (
                Occur.Should,
                Query.const_score_query(
                    Query.fuzzy_term_query(schema, f, word, distance=0, prefix=True), weight
                ),
            )
            for f, weight in TEXT_FIELDS.items()
        ]
        exact_in = [(Occur.Should, Query.term_query(schema, f, word)) for f in TEXT_FIELDS]
        bm25_in = [
            (Occur.Should, Query.boost_query(Query.term_query(schema, f, word), weight))
            for f, weight in TEXT_FIELDS.items()
        ]
        return Query.boolean_query(
            [
                (Occur.Must, Query.boolean_query(prefix_in)),
                (Occur.Should, Query.const_score_query(Query.boolean_query(exact_in), EXACT_WORD)),
                *bm25_in,
            ]
        )

    def _filters(self, where: SearchFilter) -> Iterable[Query]:
        schema = self._schema
        if where.city is not None:
            yield Query.term_query(schema, "city_key", city_key(where.city))
        if where.category is not None:
            yield Query.term_query(schema, "category", where.category)
        if where.starts_from is not None or where.starts_to is not None:
            # tantivy refuses an exclusive bound on an open side.
            yield Query.range_query(
                schema,
                "starts_us",
                FieldType.Integer,
                micros(where.starts_from) if where.starts_from is not None else None,
                micros(where.starts_to) if where.starts_to is not None else None,
                include_upper=where.starts_to is None,
            )
        if where.price_min is not None or where.price_max is not None:
            # Only events with a price have the field: the others fail the range.
            yield Query.range_query(
                schema,
                "price_milli",
                FieldType.Integer,
                milli(where.price_min, ROUND_CEILING) if where.price_min is not None else None,
                milli(where.price_max, ROUND_FLOOR) if where.price_max is not None else None,
            )
        if where.has_tickets is True:
            yield Query.range_query(schema, "tickets", FieldType.Unsigned, 1, None)
        elif where.has_tickets is False:
            yield Query.term_query(schema, "tickets", 0)

    def _by_relevance(
        self, searcher: tantivy.Searcher, matches: Query, offset: int, limit: int
    ) -> tuple[int, list[int]]:
        """The page by score, equal scores soonest first. tantivy breaks ties by document, so
        the top-k is widened until it holds every hit that scores as the page's last one."""
        wanted = offset + max(limit, 1)
        fetch = wanted
        while True:
            found = searcher.search(matches, fetch)
            hits = found.hits
            if len(hits) < fetch or fetch >= searcher.num_docs:
                break  # every match is here
            if hits[-1][0] < hits[wanted - 1][0]:
                break  # the boundary's ties are all here
            fetch = min(fetch * 4, searcher.num_docs)
        total = found.count or 0
        addresses = [address for _, address in hits]
        starts = searcher.fast_field_values("starts_us", addresses)
        keys = [int(key) for key in searcher.fast_field_values("doc_key", addresses)]
        ranked = sorted(
            zip(hits, starts, keys, strict=True),
            key=lambda hit: (-hit[0][0], hit[1], self._event_ids[hit[2]]),
        )
        return total, [key for _, _, key in ranked[offset : offset + limit]]

    def _facets(
        self, searcher: tantivy.Searcher, matches: Query
    ) -> tuple[list[FacetCount], list[FacetCount]]:
        aggregated = searcher.aggregate(
            matches,
            {
                "categories": {"terms": {"field": "category", "size": _FACET_SIZE}},
                "cities": {"terms": {"field": "city_display", "size": _FACET_SIZE}},
            },
        )
        categories = {b["key"]: b["doc_count"] for b in aggregated["categories"]["buckets"]}
        # One city may be written several ways ("Zürich", "ZURICH"): counted as one, shown as
        # its most frequent spelling.
        spellings: dict[str, list[tuple[int, str]]] = {}
        for bucket in aggregated["cities"]["buckets"]:
            spellings.setdefault(city_key(bucket["key"]), []).append(
                (bucket["doc_count"], bucket["key"])
            )
        cities = {
            min(found, key=lambda s: (-s[0], s[1]))[1]: sum(n for n, _ in found)
            for found in spellings.values()
        }
        return ranked_facets(categories), ranked_facets(cities)


def ranked_facets(counts: dict[str, int]) -> list[FacetCount]:
    """Most first, then by value."""
    return [
        FacetCount(value, count)
        for value, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
