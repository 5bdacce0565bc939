"""Cursor pagination: opaque cursors over a (created_at, id) order, newest first."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
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

    def before_filter(self) -> dict[str, Any]:
        """Documents before (newer than) this cursor in (created_at desc, _id desc) order."""
        return {
            "$or": [
                {"created_at": {"$gt": self.created_at}},
                {"created_at": self.created_at, "_id": {"$gt": self.id}},
            ]
        }

    def at_or_before_filter(self) -> dict[str, Any]:
        return {
            "$or": [
                {"created_at": {"$gt": self.created_at}},
                {"created_at": self.created_at, "_id": {"$gte": self.id}},
            ]
        }

    def at_or_after_filter(self) -> dict[str, Any]:
        return {
            "$or": [
                {"created_at": {"$lt": self.created_at}},
                {"created_at": self.created_at, "_id": {"$lte": self.id}},
            ]
        }

    @classmethod
    def of(cls, item: Listed) -> Cursor:
        return cls(item.created_at, item.id)


NEWEST_FIRST = [("created_at", -1), ("_id", -1)]
OLDEST_FIRST = [("created_at", 1), ("_id", 1)]


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
    # Exact in both directions (PAGE-4): items exist after the last / before the first returned.
    has_next: bool = False
    has_previous: bool = False


@dataclass(frozen=True)
class PageRequest:
    """One page of a keyset over (created_at, id), newest first: forwards after `cursor`
    (from the newest end without), or backwards before it (from the oldest end without)."""

    limit: int
    cursor: Cursor | None
    backward: bool


def page_request(
    size: int, page_token: str, before_page_token: str = "", backward: bool = False
) -> PageRequest:
    # Fields named as the GraphQL arguments they come from (the gateway passes them through).
    limit = page_size(size)
    backward = backward or bool(before_page_token)
    if backward and page_token:
        raise InvalidInput("A page is asked after a cursor or before one, not both", field="after")
    if backward:
        return PageRequest(limit, decode_token(before_page_token, "before"), True)
    return PageRequest(limit, decode_token(page_token, "after"), False)


Query = dict[str, Any]
Find = Callable[[Query, Sequence[tuple[str, int]], int], Awaitable[list[L]]]


def _both(base: Query, extra: Query) -> Query:
    return {"$and": [base, extra]} if base else extra


async def _any(find: Find[L], base: Query, other_way: Query | None, sort) -> bool:
    """The probe: one document at most, nearest the page first on the index."""
    return other_way is not None and bool(await find(_both(base, other_way), sort, 1))


async def keyset_page(base: Query, request: PageRequest, find: Find[L]) -> Page[L]:
    """The page `request` asks of the documents matching `base`, always newest first, with
    exact has_next / has_previous: the page is fetched with one more than asked (whether more
    follow in the direction walked), and one probe of a single document on the same index
    tells whether any lie the other way. `find(query, sort, limit)` runs one query."""
    cursor, limit = request.cursor, request.limit
    if not request.backward:
        query = _both(base, cursor.after_filter()) if cursor else base
        found = await find(query, NEWEST_FIRST, limit + 1)
        items, has_next = found[:limit], len(found) > limit
        if items:
            other_way: Query | None = Cursor.of(items[0]).before_filter()
        else:  # an empty page: anything at or before the cursor
            other_way = cursor.at_or_before_filter() if cursor else None
        has_previous = await _any(find, base, other_way, OLDEST_FIRST)
    else:
        query = _both(base, cursor.before_filter()) if cursor else base
        found = await find(query, OLDEST_FIRST, limit + 1)
        items, has_previous = list(reversed(found[:limit])), len(found) > limit
        if items:
            other_way = Cursor.of(items[-1]).after_filter()
        else:  # an empty page: anything at or after the cursor
            other_way = cursor.at_or_after_filter() if cursor else None
        has_next = await _any(find, base, other_way, NEWEST_FIRST)
    next_token = Cursor.of(items[-1]).encode() if has_next and items else ""
    return Page(items, next_token, has_next, has_previous)
