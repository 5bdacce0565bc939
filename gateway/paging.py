"""The arguments of a connection (docs/api.md PAGE-1..5): which direction, how many, from where.

`first` goes with `after` (forwards), `last` with `before` (backwards); any other mix is
BAD_USER_INPUT naming the argument, as is a size outside 1-100 or a cursor that does not decode.
Ranked connections (recommendations) use rank-offset cursors made here; keyset connections
(tickets, orders) use the services' own (created_at, id) cursors, checked here before any call.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import VariableNode
from strawberry import UNSET
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from common.errors import InvalidInput
from common.pagination import MAX_PAGE_SIZE, Cursor

# Paging reads only the document (arguments, selections), never the context: any resolver's info.
Info = strawberry.Info[Any, Any]

T = TypeVar("T")

# Ranked connections page over at most this many ranks (PAGE-5).
MAX_RANKS = 100


def first_argument(default: int) -> object:
    return strawberry.argument(
        description=f"Forwards: how many from the start (or after `after`), 1 to {MAX_PAGE_SIZE}; "
        f"null means {default}. Not with last/before (BAD_USER_INPUT)."
    )


AFTER = strawberry.argument(
    description="Forwards: the items after this cursor (from this connection with the same "
    "arguments). BAD_USER_INPUT for one that does not decode."
)
LAST = strawberry.argument(
    description=f"Backwards: how many from the end (or before `before`), 1 to {MAX_PAGE_SIZE}. "
    "Not with first/after (BAD_USER_INPUT)."
)
BEFORE = strawberry.argument(
    description="Backwards, with last: the items before this cursor. BAD_USER_INPUT for one "
    "that does not decode."
)
After = Annotated[str | None, AFTER]
Last = Annotated[int | None, LAST]
Before = Annotated[str | None, BEFORE]


@dataclass(frozen=True)
class Window:
    """What a connection was asked for: `size` items forwards from `after`, or backwards from
    `before` (cursors as given, possibly empty)."""

    size: int
    backward: bool
    after: str
    before: str


def _explicit(info: Info) -> set[str]:
    """The arguments the document gives this field (a default, or a variable not sent, does not
    count)."""
    raw = info._raw_info
    given = set()
    for argument in raw.field_nodes[0].arguments or ():
        value = argument.value
        if isinstance(value, VariableNode) and value.name.value not in raw.variable_values:
            continue
        given.add(argument.name.value)
    return given


def _size(value: int | None, default: int, name: str) -> int:
    if value is None:
        return default
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidInput(f"{name} must be between 1 and {MAX_PAGE_SIZE}", field=name)
    return value


def _value(value: T | None) -> T | None:
    """An argument the document left out is UNSET (so the schema prints it without a default)."""
    return None if value is UNSET else value


def window(
    info: Info,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    *,
    default: int,
) -> Window:
    first, after, last, before = _value(first), _value(after), _value(last), _value(before)
    given = _explicit(info)
    backward = last is not None or before is not None
    if backward:
        if last is None:
            raise InvalidInput("before goes with last, not first", field="before")
        if "first" in given and first is not None:
            raise InvalidInput("Give first or last, not both", field="first")
        if after is not None:
            raise InvalidInput("after goes with first, not last", field="after")
        return Window(_size(last, default, "last"), True, "", before or "")
    return Window(_size(first, default, "first"), False, after or "", "")


def check_keyset_cursor(w: Window) -> None:
    """A tickets/orders cursor that does not decode is BAD_USER_INPUT (the service checks too)."""
    if w.after:
        Cursor.decode(w.after, "after")
    if w.before:
        Cursor.decode(w.before, "before")


# -- ranked connections: the cursor is the rank offset ---------------------------------------

_RANK = "rank:"


def rank_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_RANK}{offset}".encode()).decode().rstrip("=")


def _rank_of(cursor: str, field: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith(_RANK):
            raise ValueError
        offset = int(text.removeprefix(_RANK))
        if not 0 <= offset < MAX_RANKS:
            raise ValueError
    except (ValueError, binascii.Error):
        raise InvalidInput("Invalid cursor", field=field) from None
    return offset


def rank_slice(w: Window, total: int) -> tuple[int, int]:
    """The [start, end) ranks of the page among `total` ranked items."""
    if w.backward:
        end = min(_rank_of(w.before, "before"), total) if w.before else total
        return max(0, end - w.size), end
    start = _rank_of(w.after, "after") + 1 if w.after else 0
    start = min(start, total)
    return start, min(total, start + w.size)


# -- selections --------------------------------------------------------------------------------


def selects(info: Info, name: str) -> bool:
    """Whether the document selects `name` directly under this field (fragments included)."""
    return any(_selects(field.selections, name) for field in info.selected_fields)


def _selects(selections: Iterable[object], name: str) -> bool:
    for selection in selections:
        if isinstance(selection, SelectedField) and selection.name == name:
            return True
        if isinstance(selection, (FragmentSpread, InlineFragment)) and _selects(
            selection.selections, name
        ):
            return True
    return False
