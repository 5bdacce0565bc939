"""The delivery deadline tickets fixes when seats are held (issue 22): the listing's own if it
is still before the event's start, else the event's start minus the setting's margin, the
event's start for a purchase inside that margin, and for a v1 ticket the hold plus its setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from common.config import ConfigError
from common.errors import InvalidInput
from svc_tickets.config import TicketsSettings
from svc_tickets.domain.delivery_terms import DeliveryTerms, check_own_deadline

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
START = NOW + timedelta(days=10)
TERMS = DeliveryTerms(timedelta(hours=2), timedelta(hours=48))


def test_the_default_is_before_the_events_start() -> None:
    assert TERMS.deadline(None, START, NOW) == START - timedelta(hours=2)


def test_the_listings_own_deadline_wins_while_it_is_before_the_start() -> None:
    own = START - timedelta(days=1)
    assert TERMS.deadline(own, START, NOW) == own
    moved_earlier = own - timedelta(days=2)  # the event was rescheduled before the own deadline
    assert TERMS.deadline(own, moved_earlier, NOW) == moved_earlier - timedelta(hours=2)


def test_a_purchase_inside_the_margin_gets_the_events_start() -> None:
    late = START - timedelta(hours=1)
    assert TERMS.deadline(None, START, late) == START


def test_a_v1_ticket_has_the_hold_plus_its_setting() -> None:
    assert TERMS.deadline(None, None, NOW) == NOW + timedelta(hours=48)


def test_an_own_deadline_is_after_now_before_the_start_and_needs_an_event() -> None:
    assert check_own_deadline(START - timedelta(hours=5), START, NOW) == START - timedelta(hours=5)
    for own, start, message in (
        (NOW - timedelta(seconds=1), START, "has passed"),
        (START, START, "before the event's start"),
        (START - timedelta(hours=1), None, "needs an event"),
    ):
        with pytest.raises(InvalidInput, match=message) as refused:
            check_own_deadline(own, start, NOW)
        assert refused.value.field == "deliver_by"


def test_the_settings_defaults_and_refusals() -> None:
    terms = TicketsSettings.from_env({}).delivery_terms()
    assert terms == DeliveryTerms(timedelta(hours=2), timedelta(hours=48))
    with pytest.raises(ConfigError, match="DELIVERY_DEADLINE_NO_EVENT_SECONDS"):
        TicketsSettings.from_env({"DELIVERY_DEADLINE_NO_EVENT_SECONDS": "0"})
    with pytest.raises(ConfigError, match="DELIVERY_DEADLINE_BEFORE_EVENT_SECONDS"):
        TicketsSettings.from_env({"DELIVERY_DEADLINE_BEFORE_EVENT_SECONDS": "-1"})
