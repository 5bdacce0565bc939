"""svc_catalogue/domain: an event's checks (each refused field named), its ids, its status
transitions and what it records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from common.errors import Conflict, InvalidInput
from svc_catalogue.domain import events
from svc_catalogue.domain.model import TRANSITIONS, Event
from svc_catalogue.domain.values import (
    Category,
    EventStatus,
    InvalidDetails,
    Performer,
    check_details,
    check_venue,
    slug,
)

NOW = datetime(2027, 1, 1, tzinfo=UTC)
STARTS = datetime(2027, 6, 1, 19, tzinfo=UTC)
ENDS = STARTS + timedelta(hours=3)


def venue():
    return check_venue("O2 Arena", "London", "gb", "Europe/London")


def details(**changes):
    given = {
        "name": "Arctic Monkeys live",
        "performers": ["Arctic Monkeys", "The Hives"],
        "venue": venue(),
        "starts_at": STARTS,
        "ends_at": ENDS,
        "category": "concert",
    }
    given.update(changes)
    return check_details(**given)


def new_event(**changes) -> Event:
    return Event.create("e1", details(**changes), NOW)


def test_valid_details_are_normalised_with_stable_slug_ids():
    checked = details(name="  Arctic   Monkeys live ")
    assert checked.name == "Arctic Monkeys live"
    assert [p.id for p in checked.performers] == ["performer:arctic-monkeys", "performer:the-hives"]
    assert checked.venue.id == "venue:o2-arena-london"
    assert checked.venue.country == "GB"
    assert checked.category is Category.CONCERT
    assert slug("Beyoncé & Jay-Z") == "beyonce-jay-z"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"performers": []}, "performers"),
        ({"performers": ["  "]}, "performers"),
        ({"ends_at": STARTS}, "ends_at"),
        ({"ends_at": STARTS - timedelta(hours=1)}, "ends_at"),
        ({"category": "OPERA"}, "category"),
        ({"starts_at": None}, "starts_at"),
    ],
)
def test_each_refused_field_is_named(changes, field):
    with pytest.raises(InvalidInput) as refused:
        details(**changes)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", "London", "GB", "Europe/London"), "venue_name"),
        (("O2", "", "GB", "Europe/London"), "city"),
        (("O2", "London", "GBR", "Europe/London"), "country"),
        (("O2", "London", "G1", "Europe/London"), "country"),
        (("O2", "London", "GB", "Europe/Londres"), "time_zone"),
        (("O2", "London", "GB", "../etc/passwd"), "time_zone"),
        (("O2", "London", "GB", ""), "time_zone"),
    ],
)
def test_venue_fields_are_checked(args, field):
    with pytest.raises(InvalidInput) as refused:
        check_venue(*args)
    assert refused.value.field == field


def test_every_failing_field_is_reported_at_once():
    with pytest.raises(InvalidDetails) as refused:
        check_details("", [], venue(), STARTS, STARTS, "nope")
    assert [p.field for p in refused.value.problems] == [
        "name",
        "performers",
        "ends_at",
        "category",
    ]


def test_a_new_event_is_scheduled_at_version_0_and_records_its_state():
    event = new_event()
    assert (event.status, event.version) == (EventStatus.SCHEDULED, 0)
    [changed] = event.events
    assert isinstance(changed, events.EventChanged)
    assert (changed.id, changed.version, changed.name) == ("e1", 0, "Arctic Monkeys live")


def test_update_changes_details_and_bumps_the_version_only_when_different():
    event = new_event()
    event.events.clear()
    assert event.update(details()) is False
    assert event.version == 0 and event.events == []
    assert event.update(details(name="Arctic Monkeys: the return", category="FESTIVAL"))
    assert (event.version, event.name, event.category) == (
        1,
        "Arctic Monkeys: the return",
        Category.FESTIVAL,
    )
    assert [type(e) for e in event.events] == [events.EventChanged]


def test_postpone_then_reschedule_with_new_times():
    event = new_event()
    event.events.clear()
    event.change_status(EventStatus.POSTPONED)
    later = STARTS + timedelta(days=30)
    event.change_status(EventStatus.RESCHEDULED, later, later + timedelta(hours=2))
    assert (event.status, event.version, event.starts_at) == (EventStatus.RESCHEDULED, 2, later)
    status_changes = [e for e in event.events if isinstance(e, events.EventStatusChanged)]
    assert [(e.previous_status, e.status, e.version) for e in status_changes] == [
        (EventStatus.SCHEDULED, EventStatus.POSTPONED, 1),
        (EventStatus.POSTPONED, EventStatus.RESCHEDULED, 2),
    ]
    assert status_changes[1].starts_at == later


def test_rescheduling_needs_valid_new_times():
    event = new_event()
    with pytest.raises(InvalidInput) as missing:
        event.change_status(EventStatus.RESCHEDULED)
    assert missing.value.field == "starts_at"
    with pytest.raises(InvalidInput) as reversed_times:
        event.change_status(EventStatus.RESCHEDULED, ENDS, STARTS)
    assert reversed_times.value.field == "ends_at"
    assert (event.status, event.version) == (EventStatus.SCHEDULED, 0)


@pytest.mark.parametrize("target", list(EventStatus))
def test_nothing_leaves_cancelled(target):
    event = new_event()
    event.change_status(EventStatus.CANCELLED)
    with pytest.raises(Conflict) as refused:
        event.change_status(target, STARTS, ENDS)
    assert refused.value.field == "status"
    with pytest.raises(Conflict):
        event.update(details(name="Another name"))
    assert event.status is EventStatus.CANCELLED


def test_the_same_status_twice_is_refused_except_rescheduled():
    event = new_event()
    with pytest.raises(Conflict):
        event.change_status(EventStatus.SCHEDULED)
    assert TRANSITIONS[EventStatus.RESCHEDULED] >= {EventStatus.RESCHEDULED}


def test_version_check_accepts_our_own_change_asked_again():
    event = new_event()
    assert event.check_version(0, asked_done=False)
    event.update(details(name="Renamed"))
    assert event.check_version(0, asked_done=True) is False
    with pytest.raises(Conflict) as stale:
        event.check_version(0, asked_done=False)
    assert stale.value.field == "expected_version"


def test_given_ids_must_be_slugs_of_their_kind():
    assert check_venue("O2", "London", "GB", "Europe/London", "venue:the-o2").id == "venue:the-o2"
    with pytest.raises(InvalidInput) as refused:
        check_venue("O2", "London", "GB", "Europe/London", "performer:the-o2")
    assert refused.value.field == "venue_id"
    with pytest.raises(InvalidInput) as bad_performer:
        details(performers=[Performer("performer:Bad Id", "Muse")])
    assert bad_performer.value.field == "performers"


def test_a_reschedule_asked_again_is_recognised_to_the_millisecond():
    event = new_event()
    later = STARTS + timedelta(days=3, microseconds=1500)
    event.change_status(EventStatus.RESCHEDULED, later, later + timedelta(hours=2))
    assert event.is_status(EventStatus.RESCHEDULED, later, later + timedelta(hours=2))
    assert not event.is_status(EventStatus.RESCHEDULED, later + timedelta(hours=1), ENDS)
