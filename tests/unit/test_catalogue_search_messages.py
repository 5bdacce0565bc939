"""svc_catalogue/entrypoints/proto_mapping.py EventMessages: a search page's event messages are
made once per copy of the event, and a changed event (a new copy) is answered as it now is."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from svc_catalogue.domain.listings import ListingSummary
from svc_catalogue.domain.model import Event
from svc_catalogue.domain.values import check_details, check_venue
from svc_catalogue.entrypoints.proto_mapping import EventMessages, event_to_proto

STARTS = datetime(2027, 6, 1, 19, tzinfo=UTC)


def copy_of_event(event_id: str = "e1", name: str = "Arctic Monkeys live") -> Event:
    details = check_details(
        name=name,
        performers=["Arctic Monkeys"],
        venue=check_venue("O2 Arena", "London", "gb", "Europe/London"),
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=3),
        category="concert",
    )
    return Event.create(event_id, details, datetime(2027, 1, 1, tzinfo=UTC))


def test_the_same_copy_is_answered_with_the_message_made_for_it():
    messages, copy = EventMessages(), copy_of_event()
    first = messages.of(copy)
    assert first == event_to_proto(copy)
    assert messages.of(copy) is first  # not made again


def test_a_new_copy_of_a_changed_event_is_answered_as_it_now_is():
    messages, copy = EventMessages(), copy_of_event()
    before = messages.of(copy)
    # What the search sync does on a change: a new copy, with a new name and a new summary.
    renamed = dataclasses.replace(
        copy,
        name="Arctic Monkeys: the last show",
        version=1,
        summary=ListingSummary(Decimal("42.50"), "EUR", 4),
    )
    after = messages.of(renamed)
    assert after == event_to_proto(renamed)
    assert (after.name, after.version, after.lowest_price, after.tickets_for_sale) == (
        "Arctic Monkeys: the last show",
        1,
        "42.50",
        4,
    )
    assert before.name == "Arctic Monkeys live"  # the old message is not changed in place
    # An equal but distinct copy (an event read from MongoDB) gets a message of its own.
    assert messages.of(copy_of_event()) is not messages.of(copy)
