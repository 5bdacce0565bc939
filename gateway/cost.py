"""What each field of the schema costs, declared in the schema itself (docs/api.md, COST-1).

IBM's GraphQL Cost Directives (https://ibm.github.io/graphql-specs/cost-spec.html), as Apollo's
demand control uses them: `@cost(weight:)` on a field or a type, `@listSize(...)` on a list or a
connection. They are printed in schema.graphql, so clients read the costs there.

The weight of a field is the first of:

1. its own `@cost(weight:)`;
2. the `@cost(weight:)` of the type that declares it (`SellerFigures @cost(weight: 0)`: every
   field of a report's figures comes in the report's one reply);
3. the `@cost(weight:)` of the type it returns, for a field that is not a list;
4. the table: a list 0 (its items count), an object, interface or union 1, a scalar or enum 0.

What a document costs from these weights is gateway/document_cost.py's.

The directives are read from a schema Strawberry built (each field's and type's
`strawberry-definition`) or one built from SDL (its AST nodes' directives), so the same rules
apply to `build_schema()` and to `schema.graphql`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    Undefined,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.execution.values import get_directive_values
from strawberry import UNSET
from strawberry.schema_directive import Location

MAX_REPORT_DAYS = 366


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION, Location.OBJECT, Location.ARGUMENT_DEFINITION],
    name="cost",
    description="What resolving this field (or any field of this type) weighs.",
)
class Cost:
    weight: int


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="listSize",
    description=(
        "How many items a list field returns: the value of one of its slicing arguments, "
        "else assumedSize; sizedFields name the connection's lists the size applies to."
    ),
)
class ListSize:
    assumed_size: int | None = None
    slicing_arguments: list[str] | None = None
    sized_fields: list[str] | None = None
    require_one_slicing_argument: bool = False


# --- what the schema declares --------------------------------------------------------------------


@dataclass(frozen=True)
class FieldCost:
    """A field's declared directives (None: not declared)."""

    weight: int | None = None
    list_size: bool = False  # has @listSize
    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] = ()
    sized_fields: tuple[str, ...] = ()


NO_COST = FieldCost()


def _sdl_directives(element: Any, schema: GraphQLSchema) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    nodes = [element.ast_node, *(getattr(element, "extension_ast_nodes", None) or ())]
    for node in nodes:
        for directive_node in getattr(node, "directives", None) or ():
            directive = schema.get_directive(directive_node.name.value)
            if directive is not None:
                found[directive.name] = get_directive_values(directive, node) or {}
    return found


def declared_directives(element: Any, schema: GraphQLSchema) -> dict[str, dict[str, Any]]:
    """`{"cost": {"weight": 1}, "listSize": {...}}` of a graphql-core field or named type, in the
    SDL's argument names, whether Strawberry or SDL built the schema."""
    definition = (element.extensions or {}).get("strawberry-definition")
    directives = getattr(definition, "directives", None)
    if directives is None:
        return _sdl_directives(element, schema)
    found: dict[str, dict[str, Any]] = {}
    for directive in directives:
        if isinstance(directive, Cost):
            found["cost"] = {"weight": directive.weight}
        elif isinstance(directive, ListSize):
            found["listSize"] = {
                "assumedSize": _given(directive.assumed_size),
                "slicingArguments": _given(directive.slicing_arguments),
                "sizedFields": _given(directive.sized_fields),
            }
    return found


def _given(value: Any) -> Any:
    """None for an argument left out (UNSET, so that the SDL does not print it)."""
    return None if value is UNSET else value


def _field_cost(directives: Mapping[str, Mapping[str, Any]]) -> FieldCost:
    cost = directives.get("cost")
    size = directives.get("listSize")
    return FieldCost(
        weight=cost.get("weight") if cost else None,
        list_size=size is not None,
        assumed_size=size.get("assumedSize") if size else None,
        slicing_arguments=tuple((size or {}).get("slicingArguments") or ()),
        sized_fields=tuple((size or {}).get("sizedFields") or ()),
    )


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """What the cost of one field of the schema needs, worked out once."""

    weight: int
    is_list: bool
    named: GraphQLNamedType
    slicing_arguments: tuple[str, ...]
    default_size: int | None  # the largest default of its slicing arguments
    assumed_size: int | None
    sized_fields: tuple[str, ...]
    free_fixed_items: bool  # declared in a type of @cost(weight: 0)
    ranged: bool  # takes `from` and `to`: a report's range


class Declarations:
    """Every type's and field's declared cost in one schema, read once."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.type_weights: dict[str, int] = {}
        self.fields: dict[tuple[str, str], FieldCost] = {}
        self.infos: dict[tuple[str, str], FieldInfo | None] = {}
        for name, named in schema.type_map.items():
            if name.startswith("__"):
                continue
            cost = declared_directives(named, schema).get("cost")
            if cost is not None:
                self.type_weights[name] = cost["weight"]
            for field_name, field in (getattr(named, "fields", None) or {}).items():
                declared = _field_cost(declared_directives(field, schema))
                if declared != NO_COST:
                    self.fields[(name, field_name)] = declared

    def field(self, parent: str, name: str) -> FieldCost:
        return self.fields.get((parent, name), NO_COST)

    def weight(self, parent: str, name: str, field: GraphQLField) -> int:
        own = self.field(parent, name).weight
        if own is not None:
            return own
        if parent in self.type_weights:
            return self.type_weights[parent]
        if is_list_type(get_nullable_type(field.type)):
            return 0
        named = get_named_type(field.type)
        if named.name in self.type_weights:
            return self.type_weights[named.name]
        return 1 if is_composite_type(named) else 0

    def info(self, parent: GraphQLNamedType, name: str) -> FieldInfo | None:
        """The field's FieldInfo; None for `__typename`, introspection or an unknown field."""
        key = (parent.name, name)
        if key not in self.infos:
            field = (getattr(parent, "fields", None) or {}).get(name)
            self.infos[key] = None if field is None else self._info(parent.name, name, field)
        return self.infos[key]

    def _info(self, parent: str, name: str, field: GraphQLField) -> FieldInfo:
        declared = self.field(parent, name)
        defaults = [
            size
            for argument in declared.slicing_arguments
            if argument in field.args
            and (size := size_of(default_of(field.args[argument]))) is not None
        ]
        return FieldInfo(
            weight=self.weight(parent, name, field),
            is_list=is_list_type(get_nullable_type(field.type)),
            named=get_named_type(field.type),
            slicing_arguments=declared.slicing_arguments,
            default_size=max(defaults) if defaults else None,
            assumed_size=declared.assumed_size,
            sized_fields=declared.sized_fields,
            free_fixed_items=self.type_weights.get(parent) == 0,
            ranged="from" in field.args and "to" in field.args,
        )


@functools.lru_cache(maxsize=8)
def declarations(schema: GraphQLSchema) -> Declarations:
    return Declarations(schema)


def size_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, list):
        return len(value)
    return None


def default_of(argument: GraphQLArgument) -> Any:
    """An argument's default: a schema built from SDL keeps it in the AST only."""
    if argument.default_value is not Undefined:
        return argument.default_value
    node = argument.ast_node
    return value_from_ast_untyped(node.default_value) if node and node.default_value else None
