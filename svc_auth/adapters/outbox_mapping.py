"""The auth domain's events as the integration events consumers receive
(proto/ticketing/events/v1/users.proto): the one place they are mapped, when the unit of work
writes the outbox (`svc_auth/adapters/unit_of_work.py`)."""

from __future__ import annotations

from google.protobuf.message import Message

from svc_auth.domain import events
from ticketing.events.v1 import users_pb2


def to_integration(event: events.Event) -> Message:
    match event:
        case events.UserCreated():
            return users_pb2.UserCreated(id=event.id, email=event.email)
        case events.UserUpdated():
            return users_pb2.UserUpdated(id=event.id, email=event.email, version=event.version)
    raise TypeError(f"no integration event for {event!r}")
