"""Global ids (docs/api.md ID-2, ID-3): the one place the gateway turns a service's raw uuid into
the id clients see, and back.

An id is the base64url encoding, without padding, of `<TypeName>:<uuid>`. Every id the gateway
writes out is made by `encode`; every id it reads from a client goes through `decode`, which
refuses (as NOT_FOUND, never telling "malformed" from "unknown") an id that does not decode or
that names another type than the field expects.
"""

from __future__ import annotations

import base64
import binascii
import re

from common.errors import NotFound

# What a service id looks like: the services make uuid4s; nothing else is passed on to them.
_RAW_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

# The types that implement Node.
NODE_TYPES = frozenset(
    {
        "User",
        "Ticket",
        "Order",
        "Payment",
        "Event",
        "Listing",
        "Payout",
        "Refund",
        "Dispute",
        "Pass",
    }
)


def encode(type_name: str, raw_id: str) -> str:
    """The global id of the `type_name` whose service id is `raw_id`."""
    assert type_name in NODE_TYPES, type_name
    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("=")


def parse(global_id: str) -> tuple[str, str] | None:
    """(type name, raw id) of a well-formed global id, else None."""
    if not isinstance(global_id, str) or not 0 < len(global_id) <= 128:
        return None
    try:
        text = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, ValueError):
        return None
    if encode_safe(text) != global_id:
        return None  # padding tricks, or standard-alphabet input: not an id we made
    type_name, sep, raw_id = text.partition(":")
    if not sep or type_name not in NODE_TYPES:
        return None
    if not _RAW_ID.fullmatch(raw_id):
        return None
    return type_name, raw_id


def encode_safe(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(global_id: str, type_name: str, *, field: str | None = None) -> str:
    """The raw id inside a global id of `type_name`: NOT_FOUND (naming `field`, when given) for
    one that does not decode or names another type."""
    parsed = parse(global_id)
    if parsed is None or parsed[0] != type_name:
        raise NotFound(f"No such {type_name.lower()}", field=field)
    return parsed[1]
