"""The event search read model (svc_catalogue/adapters/tantivy_index.py) as the catalogue's
handlers use it: what a search finds, in which order, with which counts and pages (writes:
test_search_index_writes.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common.errors import InvalidInput
from svc_catalogue.adapters.tantivy_index import TantivyEventIndex
from svc_catalogue.domain.search import EventSort, FacetCount, SearchQuery, SearchResult
from tests.unit.search_catalogue import BY_ID, EVENTS, LISTED, by_date, day, find, ids


@pytest.fixture(scope="module")
def catalogue() -> TantivyEventIndex:
    """The fixed catalogue, for the tests that only read."""
    index = TantivyEventIndex()
    index.upsert(EVENTS)
    index.refresh()
    return index


# -- words -----------------------------------------------------------------------------------


def test_every_word_is_a_prefix_and_all_are_required(catalogue) -> None:
    assert set(ids(catalogue, "arct mon")) == {"e01", "e02", "e17", "e28"}
    assert set(ids(catalogue, "arctic mon")) == {"e01", "e02", "e17", "e28"}  # the last word too
    assert set(ids(catalogue, "arct monkeys")) == {"e01", "e02", "e17", "e28"}
    assert set(ids(catalogue, "arct")) == {"e01", "e02", "e17", "e28", "e29"}
    assert ids(catalogue, "arct zebra") == []


def test_words_are_found_in_name_performers_venue_and_city(catalogue) -> None:
    assert ids(catalogue, "cornucop") == ["e09"]  # name
    assert set(ids(catalogue, "netreb")) == {"e30"}  # performer
    assert set(ids(catalogue, "letzi")) == {"e10"}  # venue
    assert set(ids(catalogue, "milan")) == {"e30"}  # city
    assert ids(catalogue, "bjork hallen") == ["e09"]  # one word in performers, one in the venue


def test_accents_and_case_do_not_matter(catalogue) -> None:
    zurich = {"e01", "e08", "e09", "e10", "e26", "e27"}
    assert set(ids(catalogue, "zurich")) == zurich
    assert set(ids(catalogue, "ZÜRICH")) == zurich
    assert set(ids(catalogue, "Zürich")) == zurich
    assert set(ids(catalogue, "montreal")) == {"e04", "e05", "e18", "e25"}
    assert ids(catalogue, "beyonce") == ["e03"]
    assert ids(catalogue, "BEYONCÉ") == ["e03"]
    assert set(ids(catalogue, "bjork")) == {"e08", "e09", "e17"}
    assert set(ids(catalogue, "rosal")) == {"e15", "e17"}
    assert set(ids(catalogue, "reykjav")) == {"e07", "e29"}


@pytest.mark.parametrize(
    "text",
    ['a.*b(', '"', "\\", "(((", "[", "*", "?", "^$", "{1,2}", "|", "-", "+", "&&", "~", "#",
     "AND OR NOT", "title:x", "\x00", "🎸", "ü" * 500, "a" * 10_000, "\\d+", "'; DROP"],
)  # fmt: skip
def test_hostile_text_is_plain_text(catalogue, text: str) -> None:
    result = find(catalogue, text)
    assert result.total >= 0


def test_regex_syntax_in_a_query_is_not_a_pattern(catalogue) -> None:
    assert set(ids(catalogue, "arctic.*")) == set(ids(catalogue, "arctic"))
    # Two words, "arc" and "fire": not "arc, anything, fire".
    assert set(ids(catalogue, "arc.*fire")) == {"e08", "e13"}
    assert ids(catalogue, "cornu.*pia") == []
    assert ids(catalogue, "(cornucopia)") == ["e09"]
    assert find(catalogue, '"').total == len(LISTED)  # no word at all: every event


def test_a_query_of_too_many_words_is_refused_with_its_field(catalogue) -> None:
    with pytest.raises(InvalidInput) as refused:
        find(catalogue, " ".join(f"w{n}" for n in range(40)))
    assert refused.value.field == "text"


# -- ranking ---------------------------------------------------------------------------------


def test_exact_words_rank_above_prefixes(catalogue) -> None:
    # "Monkey" is a whole word of e12 only; "Monkeys" (e01, e02, e17, e28) merely starts with it.
    assert ids(catalogue, "monkey")[0] == "e12"
    # "Arctic" is a whole word of four events; "Arcticus" (e29, sooner than most) only a prefix.
    found = ids(catalogue, "arctic")
    assert found[-1] == "e29"
    assert set(found[:4]) == {"e01", "e02", "e17", "e28"}


def test_an_exact_word_in_a_light_field_ranks_above_prefixes_in_heavy_ones(catalogue) -> None:
    # "Bell" is a whole word of four venues; e30 has "Bellini" and "Bellissima" in its name and
    # performers, the heavy fields, but only as prefixes.
    found = ids(catalogue, "bell")
    assert found[-1] == "e30"
    assert set(found[:4]) == {"e04", "e05", "e18", "e25"}


def test_a_name_match_ranks_above_a_venue_or_city_match(catalogue) -> None:
    # "zurich": e08 and e10 have it in their name or performers and the city; the others only
    # in their city (e27 also in its venue, a light field).
    assert set(ids(catalogue, "zurich")[:2]) == {"e08", "e10"}


def test_equal_matches_are_ranked_soonest_first(catalogue) -> None:
    # e01 and e02 are the same text (day 10 and day 5), e17 and e28 the same (day 70, day 80).
    assert ids(catalogue, "arct mon") == ["e02", "e01", "e17", "e28"]
    assert ids(catalogue, "arctic monkeys") == ["e02", "e01", "e17", "e28"]


def test_ties_are_broken_by_date_across_pages(catalogue) -> None:
    # The four events at the Centre Bell tie on "bell" (same venue, nowhere else); tantivy
    # would order them as they were added (e04, e05, e18, e25), one a page.
    pages = [
        event_id
        for offset in range(4)
        for event_id in catalogue.search(SearchQuery(text="bell", offset=offset, limit=1)).event_ids
    ]
    assert pages == by_date([BY_ID[i] for i in ("e04", "e05", "e18", "e25")])


# -- filters ---------------------------------------------------------------------------------


def test_city_filter_is_exact_and_folded(catalogue) -> None:
    zurich = by_date([e for e in LISTED if e.city == "Zürich"])
    assert ids(catalogue, where={"city": "zurich"}) == zurich
    assert ids(catalogue, where={"city": "ZÜRICH"}) == zurich
    assert ids(catalogue, where={"city": "Zür"}) == []  # exact, not a prefix
    assert ids(catalogue, where={"city": "Montreux"}) == ["e24"]
    assert ids(catalogue, "arct", where={"city": "paris"}) == ["e02"]


def test_category_filter(catalogue) -> None:
    assert ids(catalogue, where={"category": "SPORTS"}) == ["e05", "e10", "e21", "e16"]
    assert ids(catalogue, "bjork", where={"category": "FESTIVAL"}) == ["e08", "e17"]


def test_date_filter_includes_its_start_and_excludes_its_end(catalogue) -> None:
    found = ids(catalogue, where={"starts_from": day(10), "starts_to": day(20)})
    assert found == ["e01", "e12", "e21", "e11", "e14"]  # day 20 (e04) is out
    assert ids(catalogue, where={"starts_to": day(3)}) == ["e27"]
    assert ids(catalogue, where={"starts_from": day(90)}) == ["e24", "e25"]


def test_price_filter_on_the_lowest_price_and_nothing_for_sale_fails_it(catalogue) -> None:
    assert ids(catalogue, where={"price_min": Decimal(100), "price_max": Decimal(150)}) == [
        "e27",
        "e02",
        "e08",
        "e30",
        "e24",
    ]
    assert ids(catalogue, where={"price_max": Decimal(30)}) == ["e29", "e12"]
    assert ids(catalogue, where={"price_min": Decimal("99.99"), "price_max": Decimal("99.99")}) == [
        "e18"
    ]
    unpriced = {e.event_id for e in LISTED if e.lowest_price is None}
    assert unpriced.isdisjoint(ids(catalogue, where={"price_min": Decimal(0)}))
    assert len(ids(catalogue, where={"price_min": Decimal(0)})) == len(LISTED) - len(unpriced)


def test_has_tickets_filter(catalogue) -> None:
    assert ids(catalogue, where={"has_tickets": False}) == ["e22", "e06", "e09", "e28"]
    with_tickets = ids(catalogue, where={"has_tickets": True})
    assert with_tickets == by_date([e for e in LISTED if e.tickets_for_sale > 0])


def test_filters_combine(catalogue) -> None:
    where = {"city": "zurich", "category": "CONCERT", "has_tickets": True}
    assert ids(catalogue, where=where) == ["e01"]


# -- sorting ---------------------------------------------------------------------------------


def test_an_empty_query_lists_every_event_soonest_first(catalogue) -> None:
    assert ids(catalogue) == by_date(LISTED)
    assert ids(catalogue, sort=EventSort.RELEVANCE) == by_date(LISTED)


def test_date_sort_of_a_text_query(catalogue) -> None:
    assert ids(catalogue, "arctic", sort=EventSort.DATE) == ["e02", "e29", "e01", "e17", "e28"]


def test_price_sort_cheapest_first_and_nothing_for_sale_last(catalogue) -> None:
    found = ids(catalogue, sort=EventSort.PRICE)
    priced = sorted(
        (e for e in LISTED if e.lowest_price is not None),
        key=lambda e: (e.lowest_price, e.starts_at),
    )
    unpriced = by_date([e for e in LISTED if e.lowest_price is None])
    assert found == [e.event_id for e in priced] + unpriced
    assert found[:3] == ["e12", "e29", "e10"]
    assert ids(catalogue, "arct", sort=EventSort.PRICE) == ["e29", "e01", "e02", "e17", "e28"]


# -- facets and paging -----------------------------------------------------------------------


def test_facets_count_every_match_not_only_the_page(catalogue) -> None:
    result = catalogue.search(SearchQuery(text="arct", limit=1))
    assert len(result.event_ids) == 1
    assert result.total == 5
    assert result.categories == [FacetCount("CONCERT", 3), FacetCount("FESTIVAL", 2)]
    assert result.cities == [
        FacetCount("Barcelona", 1),
        FacetCount("Paris", 1),
        FacetCount("Reykjavík", 1),
        FacetCount("Roskilde", 1),
        FacetCount("Zürich", 1),
    ]


def test_facets_most_first_then_by_value_with_cities_as_written(catalogue) -> None:
    result = catalogue.search(SearchQuery())
    assert result.cities[:5] == [
        FacetCount("Zürich", 6),
        FacetCount("London", 5),
        FacetCount("Montréal", 4),
        FacetCount("Barcelona", 3),
        FacetCount("Paris", 3),
    ]
    assert result.categories == [
        FacetCount("CONCERT", 11),
        FacetCount("THEATRE", 6),
        FacetCount("COMEDY", 4),
        FacetCount("FESTIVAL", 4),
        FacetCount("SPORTS", 4),
    ]
    assert sum(c.count for c in result.cities) == len(LISTED)


def test_facets_follow_the_filters(catalogue) -> None:
    result = find(catalogue, where={"category": "SPORTS"})
    assert result.categories == [FacetCount("SPORTS", 4)]
    assert result.cities == [
        FacetCount("Amsterdam", 1),
        FacetCount("Barcelona", 1),
        FacetCount("Montréal", 1),
        FacetCount("Zürich", 1),
    ]


def test_no_match_has_no_facets(catalogue) -> None:
    assert catalogue.search(SearchQuery(text="zzzz")) == SearchResult([], 0, [], [])


def test_pages_cover_the_matches_once_with_the_total(catalogue) -> None:
    for sort in EventSort:
        pages, offset = [], 0
        while True:
            result = catalogue.search(SearchQuery(sort=sort, offset=offset, limit=7))
            assert result.total == len(LISTED)
            if not result.event_ids:
                break
            pages += result.event_ids
            offset += 7
        assert pages == ids(catalogue, sort=sort)
        assert sorted(pages) == sorted(e.event_id for e in LISTED)


def test_paging_a_text_query(catalogue) -> None:
    everything = ids(catalogue, "arct")
    second = catalogue.search(SearchQuery(text="arct", offset=2, limit=2))
    assert second.event_ids == everything[2:4]
    assert second.total == 5
    past = catalogue.search(SearchQuery(text="arct", offset=50, limit=2))
    assert past.event_ids == [] and past.total == 5


def test_a_limit_of_zero_counts_without_a_page(catalogue) -> None:
    result = catalogue.search(SearchQuery(text="zurich", limit=0))
    assert result.event_ids == [] and result.total == 6
    assert result.categories[0] == FacetCount("CONCERT", 2)


@pytest.mark.parametrize("field", ["offset", "limit"])
def test_a_negative_offset_or_limit_is_refused_with_its_field(catalogue, field) -> None:
    with pytest.raises(InvalidInput) as refused:
        catalogue.search(SearchQuery(**{field: -1}))
    assert refused.value.field == field


# -- cancelled events ------------------------------------------------------------------------


def test_cancelled_events_are_left_out_unless_asked_for(catalogue) -> None:
    assert "e19" not in ids(catalogue, "arctic monkeys")
    assert "e19" in ids(catalogue, "arctic monkeys", include_cancelled=True)
    assert find(catalogue, include_cancelled=True).total == len(EVENTS)
    assert ids(catalogue, where={"city": "amsterdam"}) == ["e21", "e20"]
    assert ids(catalogue, "celine") == ["e25"]  # postponed is still listed
