"""The event catalogue, read from proto/ticketing/events/v1: message type <-> routing key, and
the wire form (canonical proto3 JSON) that goes on the bus."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from google.protobuf import json_format
from google.protobuf.message import Message

from ticketing.events.v1 import options_pb2

CONTENT_TYPE = "application/json"


@functools.cache
def _catalogue() -> dict[str, type[Message]]:
    """Every event message by full name; modules are imported here so all are registered."""
    import importlib
    import pkgutil

    import ticketing.events.v1 as package

    by_name: dict[str, type[Message]] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        if not module_info.name.endswith("_pb2") or module_info.name == "options_pb2":
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for name in module.DESCRIPTOR.message_types_by_name:
            cls = getattr(module, name)
            if cls.DESCRIPTOR.GetOptions().Extensions[options_pb2.routing_key]:
                by_name[cls.DESCRIPTOR.full_name] = cls
    return by_name


def routing_key(event: Message | type[Message]) -> str:
    key = event.DESCRIPTOR.GetOptions().Extensions[options_pb2.routing_key]
    if not key:
        raise TypeError(f"{event.DESCRIPTOR.full_name} is not an event (no routing_key option)")
    return key


def type_name(event: Message | type[Message]) -> str:
    return event.DESCRIPTOR.full_name


def event_class(name: str) -> type[Message]:
    try:
        return _catalogue()[name]
    except KeyError:
        raise UnknownEvent(name) from None


def all_events() -> list[type[Message]]:
    return list(_catalogue().values())


class UnknownEvent(ValueError):
    pass


def encode(event: Message) -> bytes:
    """Canonical proto3 JSON: lowerCamelCase names, default values left out."""
    return json_format.MessageToJson(event, indent=None, sort_keys=True).encode()


def decode(name: str, body: bytes) -> Message:
    return json_format.Parse(body, event_class(name)(), ignore_unknown_fields=True)


def message_doc(event: Message, event_id: str, app_id: str, created_at: datetime) -> dict:
    """An event as the publisher takes it (and as the outbox stores it)."""
    return {
        "_id": event_id,
        "type": type_name(event),
        "routing_key": routing_key(event),
        "body": encode(event).decode(),
        "app_id": app_id,
        "created_at": created_at,
    }


@dataclass(frozen=True)
class Envelope:
    """An event with what the bus carries beside it."""

    event: Message
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime | None = None
    app_id: str = ""

    @property
    def routing_key(self) -> str:
        return routing_key(self.event)

    @property
    def type(self) -> str:
        return type_name(self.event)
