"""The Redis stream behaviour events wait in between the request that accepted them and the
relay that publishes them: names, and an event's entry (the fields the publisher needs, as the
outbox keeps them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from common import events

APP_ID = "gateway"
GROUP = "relay"


def stream_key(namespace: str) -> str:
    return f"{namespace}:behaviour:events"


def entry_of(
    event: Message, event_id: str, occurred_at: datetime, trace: dict[str, str] | None
) -> dict[str, str]:
    fields = {
        "id": event_id,
        "type": events.type_name(event),
        "routing_key": events.routing_key(event),
        "body": events.encode(event).decode(),
        "created_ms": str(int(occurred_at.timestamp() * 1000)),
    }
    if trace:
        fields["trace"] = json.dumps(trace, separators=(",", ":"))
    return fields


class UnreadableEntry(ValueError):
    """A stream entry that is not an event (written by something else, or cut short)."""


def doc_of(fields: dict[bytes, bytes] | None) -> dict[str, Any]:
    """The document `RabbitPublisher.publish` takes, from an entry's fields."""
    if not fields:
        raise UnreadableEntry("an entry without fields")
    try:
        text = {key.decode(): value.decode() for key, value in fields.items()}
        doc: dict[str, Any] = {
            "_id": text["id"],
            "type": text["type"],
            "routing_key": text["routing_key"],
            "body": text["body"],
            "app_id": APP_ID,
            "created_at": datetime.fromtimestamp(int(text["created_ms"]) / 1000, UTC),
        }
        if "trace" in text:
            doc["trace"] = json.loads(text["trace"])
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise UnreadableEntry(f"an entry that is not an event: {exc!r}") from None
    return doc
