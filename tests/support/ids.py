"""Global ids (docs/api.md ID-2) for tests that look behind the API: a client treats ids as
opaque, but a test that checks a service's database, events or logs against what the API said
needs the service's own id, and a test of ID-3 needs a well-formed id of the wrong type."""

from __future__ import annotations

import base64


def global_id(type_name: str, raw_id: str) -> str:
    """The id the API gives the object `type_name` whose service id is `raw_id`."""
    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).rstrip(b"=").decode()


def raw_id(global_id_: str, type_name: str | None = None) -> str:
    """The service id inside a global id (checked to name `type_name`, when given)."""
    padded = global_id_ + "=" * (-len(global_id_) % 4)
    name, _, raw = base64.urlsafe_b64decode(padded).decode().partition(":")
    assert raw and (type_name is None or name == type_name), (global_id_, name, type_name)
    return raw
