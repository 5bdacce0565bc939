"""Domain objects <-> MongoDB documents, declared once per aggregate, field by field.

A repository declares its document as a `Document`: each stored key, the attribute it holds, how
the value is stored (`AS_IS`, `MONEY`, `TUPLE`, `EnumValue(...)`, `OptionalEnum(...)` or a
`Kind` of its own) and, for a key that documents written before it existed lack, the value it
loads as (`missing=`). The one declaration both writes and reads, so the two can no longer drift
apart, and the document's shape stays readable where it is stored:

    USERS = Document(User, {
        "_id": Field("id"),
        "email": Field("email"),
        "roles": Field("roles", TUPLE, missing=()),
    })

Why not a library. cattrs (with rename hooks) and pydantic (a TypeAdapter on the dataclasses)
were tried on tickets' Ticket and orders' Order. Both derive the document from the domain class's
type hints: a rename in the domain would silently rename a stored key, and the schema would be the
class plus hooks rather than a list one can read. Both failed on Ticket outright
(`typing.get_type_hints` evaluates `list[...]` inside a class that has a `list` classmethod);
pydantic failed on Order too (the recorded events' type has no schema) and renames `_id` only with
an alias declared in the domain, which must not import it; cattrs loaded Order but dumped its
enums as enum objects and had no per-field value for a key older documents lack (each one more
hook, per aggregate). What the documents need is the few kinds below, about a hundred lines of the
standard library, and the domain stays free of any codec.

What stays hand-written: auth's revocations (svc_auth/adapters/revocation_store.py) are two
domain types in one collection, told apart by which key the document has, with a computed `_id`
and an epoch stored as a date; a declaration would hide that more than the six lines do.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from common.money import format_money

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)


@dataclass(frozen=True)
class Kind:
    """How a value is stored: `dump` makes the stored value, `load` the domain's back."""

    name: str
    dump: Callable[[Any], Any]
    load: Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


# Stored as the domain holds it: strings, ints, bools, datetimes (pymongo stores UTC), None.
AS_IS = Kind("as is", _same, _same)
# A Decimal amount as its decimal string with two places ("20.00"), as every service stores money.
MONEY = Kind("money string", format_money, Decimal)
# A tuple as a BSON array; an absent or null array loads as ().
TUPLE = Kind("array", list, lambda stored: tuple(stored or ()))


def EnumValue(kind: type[E]) -> Kind:
    """An enum as its value."""
    return Kind(f"{kind.__name__} value", lambda member: member.value, kind)


def OptionalEnum(kind: type[E]) -> Kind:
    """An enum as its value, or None; an empty value loads as None too."""
    return Kind(
        f"{kind.__name__} value or null",
        lambda member: None if member is None else member.value,
        lambda stored: kind(stored) if stored else None,
    )


_REQUIRED: Any = object()


@dataclass(frozen=True)
class Field:
    """One stored key: the attribute it holds, how, and what an older document lacking it means."""

    attribute: str
    kind: Kind = AS_IS
    missing: Any = _REQUIRED

    @property
    def required(self) -> bool:
        return self.missing is _REQUIRED


class Document(Generic[T]):
    """The document of one aggregate type: stored key -> Field, in the order the keys are written.
    The aggregate is made with its constructor's keyword arguments, one per field."""

    def __init__(self, cls: type[T], fields: Mapping[str, Field]) -> None:
        self.cls = cls
        self.fields = dict(fields)

    def to_doc(self, obj: T) -> dict[str, Any]:
        return {key: f.kind.dump(getattr(obj, f.attribute)) for key, f in self.fields.items()}

    def from_doc(self, doc: Mapping[str, Any]) -> T:
        values: dict[str, Any] = {}
        for key, f in self.fields.items():
            if key in doc:
                values[f.attribute] = f.kind.load(doc[key])
            elif f.required:
                raise KeyError(f"{self.cls.__name__} document {doc.get('_id')!r} has no {key!r}")
            else:
                values[f.attribute] = f.missing
        return self.cls(**values)
