"""Cursor pagination: opaque cursors over a (created_at, id) order, newest first."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from common.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def page_size(requested: int, field: str = "first") -> int:
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    if not 1 <= requested <= MAX_PAGE_SIZE:
        raise InvalidInput(f"{field} must be between 1 and {MAX_PAGE_SIZE}", field=field)
    return requested


def first_or_default(first: int | None, default: int = DEFAULT_PAGE_SIZE) -> int:
    """A GraphQL `first`: null means `default`, else 1 to MAX_PAGE_SIZE."""
    if first is None:
        return default
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE_SIZE}", field="first")
    return first


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: str

    def encode(self) -> str:
        raw = json.dumps([int(self.created_at.timestamp() * 1000), self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, field: str = "after") -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            millis, doc_id = json.loads(base64.urlsafe_b64decode(padded))
            if not isinstance(millis, int) or not isinstance(doc_id, str):
                raise ValueError
            return cls(datetime.fromtimestamp(millis / 1000, UTC), doc_id)
        except (ValueError, TypeError, binascii.Error):
            raise InvalidInput("Invalid cursor", field=field) from None

    def after_filter(self) -> dict[str, Any]:
        """Documents after this cursor in (created_at desc, _id desc) order."""
        return {
            "$or": [
                {"created_at": {"$lt": self.created_at}},
                {"created_at": self.created_at, "_id": {"$lt": self.id}},
            ]
        }


NEWEST_FIRST = [("created_at", -1), ("_id", -1)]


def decode_token(token: str, field: str = "after") -> Cursor | None:
    return Cursor.decode(token, field) if token else None


class Listed(Protocol):
    id: str
    created_at: datetime


L = TypeVar("L", bound=Listed)


@dataclass(frozen=True)
class Page(Generic[L]):
    items: list[L]
    next_token: str  # empty on the last page


def paginate(found: list[L], limit: int) -> Page[L]:
    """`found` was fetched with limit + 1: the extra one only tells that another page follows."""
    items = found[:limit]
    more = len(found) > limit and items
    return Page(items, Cursor(items[-1].created_at, items[-1].id).encode() if more else "")
