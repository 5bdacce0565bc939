"""svc_catalogue's handlers against in-memory fakes: operators create, change and move events;
anyone reads and searches them; bulk imports upsert by external_ref."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from common.clock import FrozenClock
from common.errors import Conflict, Forbidden, IdempotencyKeyReused, InvalidInput, NotFound
from svc_catalogue.adapters.tantivy_index import TantivyEventIndex
from svc_catalogue.domain.search import SearchFilter
from svc_catalogue.domain.values import EventStatus, Performer
from svc_catalogue.service_layer.commands import (
    ChangeEventStatus,
    CreateEvent,
    EventInput,
    Operator,
    SearchEvents,
    UpdateEvent,
)
from svc_catalogue.service_layer.handlers import CatalogueHandlers
from svc_catalogue.service_layer.imports import ImportHandlers, Outcome
from svc_catalogue.service_layer.search_sync import SearchSync
from tests.unit.fakes_catalogue import (
    CatalogueStore,
    FakeCatalogueUnitOfWork,
    FakeFeed,
    import_row,
)
from ticketing.events.v1 import catalogue_pb2

ADMIN = Operator("op", is_admin=True)
VISITOR = Operator("u1", is_admin=False)
STARTS = datetime(2027, 6, 1, 19, tzinfo=UTC)


def event_input(name="Arctic Monkeys live", city="London", starts=STARTS, **changes):
    given = {
        "name": name,
        "performers": [Performer("", "Arctic Monkeys")],
        "venue_name": "O2 Arena",
        "city": city,
        "country": "GB",
        "time_zone": "Europe/London",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=3),
        "category": "CONCERT",
    }
    given.update(changes)
    return EventInput(**given)


@pytest.fixture
def store() -> CatalogueStore:
    return CatalogueStore()


@pytest.fixture
def index() -> TantivyEventIndex:
    return TantivyEventIndex()


@pytest.fixture
def handlers(store, index) -> CatalogueHandlers:
    ids = count(1)
    return CatalogueHandlers(
        lambda: FakeCatalogueUnitOfWork(store),
        FrozenClock(datetime(2027, 1, 1, tzinfo=UTC)),
        index,
        new_id=lambda: f"e{next(ids)}",
    )


async def test_an_admin_creates_an_event_once_per_key(handlers, store):
    first = await handlers.create_event(CreateEvent(ADMIN, event_input(), "k1"))
    again = await handlers.create_event(CreateEvent(ADMIN, event_input(), "k1"))
    assert again.id == first.id == "e1"
    assert len(store.events) == 1
    [changed] = store.published_of(catalogue_pb2.EventChanged)
    assert (changed.id, changed.version, changed.venue.id) == ("e1", 0, "venue:o2-arena-london")
    with pytest.raises(IdempotencyKeyReused):
        await handlers.create_event(CreateEvent(ADMIN, event_input(name="Other"), "k1"))


async def test_only_an_admin_changes_the_catalogue(handlers, store):
    with pytest.raises(Forbidden):
        await handlers.create_event(CreateEvent(VISITOR, event_input(), "k1"))
    created = await handlers.create_event(CreateEvent(ADMIN, event_input(), "k1"))
    with pytest.raises(Forbidden):
        await handlers.update_event(UpdateEvent(VISITOR, created.id, event_input(name="X"), 0))
    with pytest.raises(Forbidden):
        await handlers.change_status(
            ChangeEventStatus(VISITOR, created.id, EventStatus.CANCELLED, 0)
        )
    assert store.events["e1"].name == "Arctic Monkeys live"


async def test_a_refused_input_names_its_field_and_creates_nothing(handlers, store):
    with pytest.raises(InvalidInput) as refused:
        await handlers.create_event(CreateEvent(ADMIN, event_input(time_zone="Mars/Base"), "k1"))
    assert refused.value.field == "time_zone"
    assert store.events == {}


async def test_update_checks_the_version_and_answers_our_own_change_again(handlers, store):
    created = await handlers.create_event(CreateEvent(ADMIN, event_input(), "k1"))
    renamed = event_input(name="Arctic Monkeys: encore")
    updated = await handlers.update_event(UpdateEvent(ADMIN, created.id, renamed, 0))
    assert (updated.version, updated.name) == (1, "Arctic Monkeys: encore")
    replay = await handlers.update_event(UpdateEvent(ADMIN, created.id, renamed, 0))
    assert replay.version == 1
    with pytest.raises(Conflict) as stale:
        await handlers.update_event(UpdateEvent(ADMIN, created.id, event_input(name="Z"), 0))
    assert stale.value.field == "expected_version"
    assert store.events["e1"].name == "Arctic Monkeys: encore"
    with pytest.raises(NotFound):
        await handlers.update_event(UpdateEvent(ADMIN, "nope", renamed, 0))


async def test_status_changes_publish_their_event_and_cancelled_is_final(handlers, store):
    created = await handlers.create_event(CreateEvent(ADMIN, event_input(), "k1"))
    later = STARTS + timedelta(days=7)
    moved = await handlers.change_status(
        ChangeEventStatus(
            ADMIN, created.id, EventStatus.RESCHEDULED, 0, later, later + timedelta(hours=2)
        )
    )
    assert (moved.status, moved.starts_at, moved.version) == (EventStatus.RESCHEDULED, later, 1)
    await handlers.change_status(ChangeEventStatus(ADMIN, created.id, EventStatus.CANCELLED, 1))
    with pytest.raises(Conflict) as refused:
        await handlers.change_status(ChangeEventStatus(ADMIN, created.id, EventStatus.SCHEDULED, 2))
    assert refused.value.field == "status"
    changes = store.published_of(catalogue_pb2.EventStatusChanged)
    assert [(c.previous_status, c.status, c.version) for c in changes] == [
        ("SCHEDULED", "RESCHEDULED", 1),
        ("RESCHEDULED", "CANCELLED", 2),
    ]
    assert changes[0].starts_at.ToDatetime(tzinfo=UTC) == later


async def _sync(store, index) -> None:
    await SearchSync(FakeFeed(store), index, poll_seconds=0.01).build()


async def test_search_answers_events_in_the_index_order_with_facets_and_pages(
    handlers, store, index
):
    for i, (name, city) in enumerate(
        [("Arctic Monkeys", "London"), ("Arcade Fire", "Montréal"), ("Muse", "London")]
    ):
        starts = STARTS + timedelta(days=i)
        await handlers.create_event(
            CreateEvent(
                ADMIN,
                event_input(name, city, starts, performers=[Performer("", name)]),
                f"k{i}",
            )
        )
    await _sync(store, index)
    events, result, token = await handlers.search(SearchEvents("arc", page_size=1))
    assert [e.name for e in events] == ["Arctic Monkeys"]
    assert result.total == 2
    assert {(f.value, f.count) for f in result.cities} == {("London", 1), ("Montréal", 1)}
    assert token
    events, _, token = await handlers.search(SearchEvents("arc", page_size=1, page_token=token))
    assert [e.name for e in events] == ["Arcade Fire"]
    assert token == ""
    events, _, _ = await handlers.search(SearchEvents(filter=SearchFilter(city="montreal")))
    assert [e.name for e in events] == ["Arcade Fire"]


async def test_a_search_page_comes_from_the_replicas_copy_as_fresh_as_its_ranking(store, index):
    sync = SearchSync(FakeFeed(store), index, poll_seconds=0.01)
    writer = CatalogueHandlers(
        lambda: FakeCatalogueUnitOfWork(store),
        FrozenClock(datetime(2027, 1, 1, tzinfo=UTC)),
        index,
        new_id=lambda: "e1",
    )

    def no_database() -> FakeCatalogueUnitOfWork:
        raise AssertionError("a search read the database")

    reader = CatalogueHandlers(
        no_database, FrozenClock(datetime(2027, 1, 1)), index, copies=sync.copies
    )
    created = await writer.create_event(CreateEvent(ADMIN, event_input(), "k1"))
    await sync.build()
    renamed = event_input(name="Arctic Monkeys: encore")
    await writer.update_event(UpdateEvent(ADMIN, created.id, renamed, 0))
    found, _, _ = await reader.search(SearchEvents("arctic"))
    assert [(e.name, e.version) for e in found] == [("Arctic Monkeys live", 0)]  # not synced yet
    await sync.catch_up()
    found, _, _ = await reader.search(SearchEvents("encore"))
    assert [(e.name, e.version) for e in found] == [("Arctic Monkeys: encore", 1)]


async def test_cancelled_events_are_hidden_unless_asked(handlers, store, index):
    created = await handlers.create_event(CreateEvent(ADMIN, event_input(), "k1"))
    await handlers.change_status(ChangeEventStatus(ADMIN, created.id, EventStatus.CANCELLED, 0))
    await _sync(store, index)
    assert (await handlers.search(SearchEvents("arctic")))[0] == []
    found, _, _ = await handlers.search(SearchEvents("arctic", include_cancelled=True))
    assert [e.id for e in found] == [created.id]


@pytest.mark.parametrize(
    ("cmd", "field"),
    [
        (SearchEvents(page_size=101), "page_size"),
        (SearchEvents(page_token="garbage!"), "page_token"),
        (SearchEvents(sort="LOUDEST"), "sort"),
    ],
)
async def test_a_bad_search_request_names_its_field(handlers, cmd, field):
    with pytest.raises(InvalidInput) as refused:
        await handlers.search(cmd)
    assert refused.value.field == field


async def test_import_upserts_by_external_ref_and_a_second_run_changes_nothing(store):
    ids = count(1)
    imports = ImportHandlers(
        lambda: FakeCatalogueUnitOfWork(store),
        FrozenClock(),
        new_id=lambda: f"e{next(ids)}",
    )
    rows = [
        import_row("a"),
        import_row(
            "b", name="Muse", starts_at="2027-07-01T20:00+02:00", ends_at="2027-07-01T23:00"
        ),
    ]
    first = await imports.import_events(rows)
    assert [r.outcome for r in first] == [Outcome.CREATED, Outcome.CREATED]
    # Local time in the venue's zone: 20:00 in London in June is 19:00 UTC.
    assert store.events["e1"].starts_at == datetime(2027, 6, 1, 19, tzinfo=UTC)
    assert store.events["e2"].starts_at == datetime(2027, 7, 1, 18, tzinfo=UTC)
    published = len(store.published)
    second = await imports.import_events(rows)
    assert [r.outcome for r in second] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert len(store.published) == published
    third = await imports.import_events([import_row("a", name="Arctic Monkeys: encore")])
    assert [(r.outcome, r.event_id) for r in third] == [(Outcome.UPDATED, "e1")]
    assert store.events["e1"].version == 1


async def test_import_reports_every_bad_field_of_every_row(store):
    imports = ImportHandlers(lambda: FakeCatalogueUnitOfWork(store), FrozenClock())
    results = await imports.import_events(
        [
            import_row("ok"),
            import_row("", country="GBR", starts_at="tomorrow"),
            import_row("gap", starts_at="2027-03-28T01:30", ends_at="2027-03-28T03:00"),
            import_row("cat", category="opera", performers=[]),
        ]
    )
    assert [r.outcome for r in results] == [
        Outcome.CREATED,
        Outcome.FAILED,
        Outcome.FAILED,
        Outcome.FAILED,
    ]
    assert [e.field for e in results[1].errors] == ["external_ref", "country", "starts_at"]
    assert [e.field for e in results[2].errors] == ["starts_at"]
    assert "does not exist in Europe/London" in results[2].errors[0].message
    assert [e.field for e in results[3].errors] == ["performers", "category"]
    assert len(store.events) == 1


async def test_a_page_may_start_at_an_offset_instead_of_a_token(handlers, store, index):
    for i in range(3):
        starts = STARTS + timedelta(days=i)
        await handlers.create_event(
            CreateEvent(ADMIN, event_input(f"E{i}", starts=starts), f"k{i}")
        )
    await _sync(store, index)
    events, result, token = await handlers.search(SearchEvents(page_size=1, offset=1))
    assert ([e.name for e in events], result.total, bool(token)) == (["E1"], 3, True)
    with pytest.raises(InvalidInput) as refused:
        await handlers.search(SearchEvents(offset=-1))
    assert refused.value.field == "offset"
