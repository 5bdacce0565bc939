from __future__ import annotations

import json

import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2

from common import events
from ticketing.events.v1 import users_pb2


def test_routing_keys() -> None:
    assert events.routing_key(users_pb2.UserCreated) == "user.created"
    assert events.routing_key(users_pb2.UserUpdated) == "user.updated"
    # An instance answers like its class.
    assert events.routing_key(users_pb2.UserCreated(id="u-1")) == "user.created"


def test_type_names() -> None:
    assert events.type_name(users_pb2.UserCreated) == "ticketing.events.v1.UserCreated"
    assert events.type_name(users_pb2.UserUpdated()) == "ticketing.events.v1.UserUpdated"


def test_a_message_without_a_routing_key_is_not_an_event() -> None:
    with pytest.raises(TypeError, match=r"google\.rpc\.ErrorInfo is not an event"):
        events.routing_key(error_details_pb2.ErrorInfo)


def test_event_class_by_type_name() -> None:
    assert events.event_class("ticketing.events.v1.UserCreated") is users_pb2.UserCreated
    assert events.event_class("ticketing.events.v1.UserUpdated") is users_pb2.UserUpdated


@pytest.mark.parametrize(
    "name",
    [
        "ticketing.events.v1.NoSuchEvent",
        "UserCreated",  # the short name is not the type name
        "user.created",  # nor is the routing key
        "google.rpc.ErrorInfo",  # a message, but not an event
        "",
    ],
)
def test_event_class_of_an_unknown_name(name: str) -> None:
    with pytest.raises(events.UnknownEvent) as caught:
        events.event_class(name)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == name


def test_all_events_lists_both_user_events_and_only_events() -> None:
    catalogue = events.all_events()
    assert users_pb2.UserCreated in catalogue
    assert users_pb2.UserUpdated in catalogue
    assert len(catalogue) == len(set(catalogue))
    for cls in catalogue:
        assert events.routing_key(cls)  # every one has a routing key
        assert events.event_class(events.type_name(cls)) is cls
    routing_keys = [events.routing_key(cls) for cls in catalogue]
    assert len(routing_keys) == len(set(routing_keys)), "two events share a routing key"


def test_encode_is_compact_canonical_json() -> None:
    body = events.encode(users_pb2.UserUpdated(id="u-1", email="a@example.com", version=3))

    assert isinstance(body, bytes)
    assert json.loads(body) == {"email": "a@example.com", "id": "u-1", "version": 3}
    assert b"\n" not in body
    assert list(json.loads(body)) == ["email", "id", "version"]  # sorted keys


def test_encode_leaves_out_default_values() -> None:
    body = events.encode(users_pb2.UserUpdated(id="u-1", email="a@example.com", version=0))
    assert json.loads(body) == {"id": "u-1", "email": "a@example.com"}


def test_encode_uses_lower_camel_case_names() -> None:
    # The user events have one-word fields only; any message shows the naming rule.
    message = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2))
    assert json.loads(events.encode(message)) == {"retryDelay": "2s"}


@pytest.mark.parametrize(
    "event",
    [
        users_pb2.UserCreated(id="u-1", email="alice@example.com"),
        users_pb2.UserUpdated(id="u-1", email="alice@example.com", version=7),
        users_pb2.UserUpdated(id="u-2"),
        users_pb2.UserCreated(),
        users_pb2.UserCreated(id="ü-ñ", email="é@example.com"),
    ],
)
def test_decode_round_trips(event: users_pb2.UserCreated | users_pb2.UserUpdated) -> None:
    back = events.decode(events.type_name(event), events.encode(event))
    assert type(back) is type(event)
    assert back == event


def test_decode_ignores_unknown_fields() -> None:
    body = b'{"id": "u-1", "email": "a@example.com", "version": 2, "addedLater": true}'
    back = events.decode("ticketing.events.v1.UserUpdated", body)
    assert back == users_pb2.UserUpdated(id="u-1", email="a@example.com", version=2)


def test_decode_of_an_unknown_type() -> None:
    with pytest.raises(events.UnknownEvent):
        events.decode("ticketing.events.v1.Nope", b"{}")


def test_envelope_describes_its_event() -> None:
    envelope = events.Envelope(users_pb2.UserCreated(id="u-1"), app_id="auth")
    assert envelope.routing_key == "user.created"
    assert envelope.type == "ticketing.events.v1.UserCreated"
    assert envelope.app_id == "auth"
    assert envelope.event_id
    assert events.Envelope(users_pb2.UserCreated()).event_id != envelope.event_id
