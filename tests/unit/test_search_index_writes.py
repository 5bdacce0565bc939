"""The event search read model's writes (svc_catalogue/adapters/tantivy_index.py): upsert
replaces an event by id, remove drops it, both show once `refresh` returns, and searches from
other threads meanwhile see the catalogue before or after, never between."""

from __future__ import annotations

import dataclasses
import threading
from decimal import Decimal

import pytest

from svc_catalogue.adapters.tantivy_index import TantivyEventIndex
from svc_catalogue.domain.search import EventSort, FacetCount, SearchQuery, SearchResult
from tests.unit.search_catalogue import BY_ID, EVENTS, LISTED, day, find, ids


@pytest.fixture
def fresh() -> TantivyEventIndex:
    """The fixed catalogue in an index of its own."""
    index = TantivyEventIndex()
    index.upsert(EVENTS)
    index.refresh()
    return index


# -- writes ----------------------------------------------------------------------------------


def test_upsert_replaces_the_event_a_repriced_event_moves(fresh) -> None:
    assert ids(fresh, sort=EventSort.PRICE)[0] == "e12"
    fresh.upsert([dataclasses.replace(BY_ID["e12"], lowest_price=Decimal("500.00"))])
    assert ids(fresh, sort=EventSort.PRICE)[0] == "e12"  # not before refresh
    fresh.refresh()
    by_price = ids(fresh, sort=EventSort.PRICE)
    assert by_price[0] == "e29"
    assert by_price.index("e12") == by_price.index("e03") + 1  # after 250.00, before unpriced
    assert ids(fresh, "monkey business") == ["e12"]  # one document, not two
    assert len(fresh) == len(EVENTS)


def test_upsert_of_new_text_finds_the_new_and_not_the_old(fresh) -> None:
    fresh.upsert([dataclasses.replace(BY_ID["e11"], name="Macbeth")])
    fresh.refresh()
    assert ids(fresh, "hamlet") == []
    assert ids(fresh, "macb") == ["e11"]


def test_upsert_adds_a_new_event(fresh) -> None:
    new = dataclasses.replace(BY_ID["e01"], event_id="e99", city="Genève", starts_at=day(1))
    fresh.upsert([new])
    fresh.refresh()
    assert len(fresh) == len(EVENTS) + 1
    assert ids(fresh, "geneve") == ["e99"]
    assert ids(fresh, "arctic monkeys")[0] == "e99"


def test_an_event_upserted_twice_in_one_batch_is_its_last_version(fresh) -> None:
    first = dataclasses.replace(BY_ID["e07"], name="Sigur Rós Early")
    last = dataclasses.replace(BY_ID["e07"], name="Sigur Rós Late")
    fresh.upsert([first, last])
    fresh.refresh()
    assert len(fresh) == len(EVENTS)
    assert ids(fresh, "early") == [] and ids(fresh, "late") == ["e07"]


def test_cancelling_an_event_by_upsert_hides_it(fresh) -> None:
    fresh.upsert([dataclasses.replace(BY_ID["e03"], status="CANCELLED")])
    fresh.refresh()
    assert ids(fresh, "beyonce") == []
    assert ids(fresh, "beyonce", include_cancelled=True) == ["e03"]


def test_remove_drops_events(fresh) -> None:
    fresh.remove(["e03", "e09", "nobody"])
    assert ids(fresh, "beyonce") == ["e03"]  # not before refresh
    fresh.refresh()
    assert ids(fresh, "beyonce") == []
    assert set(ids(fresh, "bjork")) == {"e08", "e17"}
    assert len(fresh) == len(EVENTS) - 2
    assert find(fresh).total == len(LISTED) - 2


def test_an_empty_index_finds_nothing() -> None:
    index = TantivyEventIndex()
    assert len(index) == 0
    assert index.search(SearchQuery(text="anything")) == SearchResult([], 0, [], [])
    index.refresh()
    assert index.search(SearchQuery()) == SearchResult([], 0, [], [])


def test_searches_from_other_threads_while_one_writes(fresh) -> None:
    """Each search sees the catalogue before or after a write, never a broken one."""
    stop = threading.Event()
    seen: list[int] = []
    failures: list[BaseException] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.append(fresh.search(SearchQuery(text="arct mon")).total)
            except BaseException as exc:  # reported below
                failures.append(exc)
                return

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for thread in readers:
        thread.start()
    for n in range(30):
        extra = dataclasses.replace(BY_ID["e01"], event_id=f"x{n % 3}", starts_at=day(n))
        fresh.upsert([extra])
        fresh.refresh()
    stop.set()
    for thread in readers:
        thread.join()
    assert not failures
    assert seen and set(seen) <= {4, 5, 6, 7}
    assert find(fresh, "arct mon").total == 7


def test_a_city_spelt_two_ways_is_one_facet_shown_as_most_often_written(fresh) -> None:
    fresh.upsert([dataclasses.replace(BY_ID["e30"], city="ZURICH")])
    fresh.refresh()
    assert find(fresh).cities[0] == FacetCount("Zürich", 7)
    assert "e30" in ids(fresh, where={"city": "Zürich"})


def test_events_starting_together_keep_their_order_when_one_is_updated(fresh) -> None:
    """Paging by date stays stable: an update does not move an event among its equals."""
    together = [
        dataclasses.replace(BY_ID["e13"], event_id=f"same-{n}", starts_at=day(200))
        for n in range(5)
    ]
    fresh.upsert(together)
    fresh.refresh()
    where = {"starts_from": day(200)}
    before = ids(fresh, where=where, sort=EventSort.DATE)
    assert sorted(before) == [f"same-{n}" for n in range(5)]
    fresh.upsert([dataclasses.replace(together[0], lowest_price=Decimal("1.00"))])
    fresh.refresh()
    assert ids(fresh, where=where, sort=EventSort.DATE) == before
