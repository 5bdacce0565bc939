"""svc_catalogue/adapters/memory_index.py: the search contract (svc_catalogue/domain/search.py)
kept by the in-memory index: prefix words, case and accents, filters, sorts, facets, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from svc_catalogue.adapters.memory_index import MemoryEventIndex
from svc_catalogue.domain.search import (
    EventSort,
    FacetCount,
    SearchDocument,
    SearchFilter,
    SearchQuery,
)

DAY0 = datetime(2027, 6, 1, 19, tzinfo=UTC)


def doc(event_id, name, performers=(), city="London", day=0, price=None, tickets=0, **more):
    return SearchDocument(
        event_id=event_id,
        name=name,
        performers=tuple(performers),
        venue_name=more.pop("venue", "Arena"),
        city=city,
        country=more.pop("country", "GB"),
        category=more.pop("category", "CONCERT"),
        starts_at=DAY0 + timedelta(days=day),
        status=more.pop("status", "SCHEDULED"),
        lowest_price=None if price is None else Decimal(price),
        currency_code="GBP" if price else "",
        tickets_for_sale=tickets,
    )


@pytest.fixture
def index() -> MemoryEventIndex:
    index = MemoryEventIndex()
    index.upsert(
        [
            doc("am", "AM tour", ["Arctic Monkeys"], day=3, price="60", tickets=4),
            doc(
                "arc", "Arcade Fire", ["Arcade Fire"], city="Montréal", day=1, price="45", tickets=2
            ),
            doc("zu", "Zürich Open Air", ["Muse"], city="Zürich", day=2, category="FESTIVAL"),
            doc(
                "monk",
                "Monkey business",
                ["Comedians"],
                day=4,
                category="COMEDY",
                price="20",
                tickets=1,
            ),
            doc("gone", "Arctic farewell", ["Arctic Monkeys"], day=5, status="CANCELLED"),
        ]
    )
    index.refresh()
    return index


def ids(index, **query) -> list[str]:
    return index.search(SearchQuery(**query)).event_ids


def test_every_word_is_a_prefix_and_all_are_required(index):
    assert ids(index, text="arct mon") == ["am"]
    assert ids(index, text="arc") == [
        "arc",
        "am",
    ]  # "arc" is a whole word of Arcade? no: both prefixes
    assert ids(index, text="arctic zzz") == []


def test_case_and_accents_do_not_matter(index):
    assert ids(index, text="ZURICH") == ["zu"]
    assert ids(index, text="montreal") == ["arc"]
    assert ids(index, filter=SearchFilter(city="zurich")) == ["zu"]


def test_exact_words_rank_above_prefixes(index):
    assert ids(index, text="monkey") == ["monk", "am"]


def test_cancelled_events_only_when_asked(index):
    assert "gone" not in ids(index, text="arctic")
    assert ids(index, text="farewell", include_cancelled=True) == ["gone"]


def test_filters(index):
    assert ids(index, filter=SearchFilter(category="COMEDY")) == ["monk"]
    window = SearchFilter(starts_from=DAY0 + timedelta(days=2), starts_to=DAY0 + timedelta(days=4))
    assert ids(index, filter=window) == ["zu", "am"]
    priced = SearchFilter(price_min=Decimal("30"), price_max=Decimal("50"))
    assert ids(index, filter=priced) == ["arc"]
    assert ids(index, filter=SearchFilter(has_tickets=False)) == ["zu"]
    assert ids(index, filter=SearchFilter(has_tickets=True)) == ["arc", "am", "monk"]


def test_sorts(index):
    assert ids(index, sort=EventSort.DATE) == ["arc", "zu", "am", "monk"]
    assert ids(index, sort=EventSort.PRICE) == ["monk", "arc", "am", "zu"]
    assert ids(index) == ids(index, sort=EventSort.DATE)  # relevance without words: by date


def test_facets_count_every_match_not_just_the_page(index):
    result = index.search(SearchQuery(limit=1))
    assert result.total == 4 and len(result.event_ids) == 1
    assert result.categories == [
        FacetCount("CONCERT", 2),
        FacetCount("COMEDY", 1),
        FacetCount("FESTIVAL", 1),
    ]
    assert result.cities[0] == FacetCount("London", 2)


def test_paging_walks_the_ranked_matches(index):
    pages = [ids(index, offset=offset, limit=3) for offset in (0, 3, 6)]
    assert pages == [["arc", "zu", "am"], ["monk"], []]


def test_upsert_replaces_and_remove_drops(index):
    index.upsert(
        [doc("zu", "Zürich Open Air", ["Muse"], city="Zürich", day=2, price="5", tickets=9)]
    )
    assert ids(index, sort=EventSort.PRICE)[0] == "zu"
    index.remove(["zu", "unknown"])
    assert "zu" not in ids(index) and len(index) == 4
