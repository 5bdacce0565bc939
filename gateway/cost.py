"""What each field of the schema costs, declared in the schema itself (docs/api.md, COST-1), and
what a document costs with this request's variables (COST-2).

IBM's GraphQL Cost Directives (https://ibm.github.io/graphql-specs/cost-spec.html), as Apollo's
demand control uses them: `@cost(weight:)` on a field or a type, `@listSize(...)` on a list or a
connection. They are printed in schema.graphql, so clients read the costs there.

The weight of a field is the first of:

1. its own `@cost(weight:)`;
2. the `@cost(weight:)` of the type that declares it (`SellerFigures @cost(weight: 0)`: every
   field of a report's figures comes in the report's one reply);
3. the `@cost(weight:)` of the type it returns, for a field that is not a list;
4. the table: a list 0 (its items count), an object, interface or union 1, a scalar or enum 0.

A field costs its weight plus its selections'. A list costs its weight plus n x (1 + the cost of
its item's selections), n being the first of: the size its connection gives it (a field whose
`@listSize(sizedFields:)` names it), the largest value of its `slicingArguments` given (an `Int`,
or a list's length: `nodes(ids:)`), their largest default, the days of the report's range for
a `days` list under a field with `from` and `to` arguments (clamped to 1-366), its
`@listSize(assumedSize:)`, else `default_list_size`. One exception keeps a report's fixed parts
free, as COST-1's table says: a list of fixed size (n from `assumedSize` alone) declared in a type
with `@cost(weight: 0)` (a report's money lists, price buckets) counts 0 per item, not 1.

Aliases and fragments count as expanded (a field under three aliases counts three times), each
fragment measured once per size it is spread under, so a "fragment bomb" costs one walk per
fragment. `__schema` and `__type` cost 0: introspection is bounded by the schema and can be
switched off (GRAPHQL_INTROSPECTION).

The directives are read from a schema Strawberry built (each field's and type's
`strawberry-definition`) or one built from SDL (its AST nodes' directives), so the same rules
apply to `build_schema()` and to `schema.graphql`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValueNode,
    VariableNode,
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
            and (size := _size_of(_default(field.args[argument]))) is not None
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


# --- what a document costs -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sizing:
    """What a field passes down to its selections: a connection's n for its sizedFields, a
    report's days."""

    n: int = 0
    sized_fields: tuple[str, ...] = ()
    days: int | None = None


NO_SIZING = Sizing()


def _size_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, list):
        return len(value)
    return None


def _default(argument: GraphQLArgument) -> Any:
    """An argument's default: a schema built from SDL keeps it in the AST only."""
    if argument.default_value is not Undefined:
        return argument.default_value
    node = argument.ast_node
    return value_from_ast_untyped(node.default_value) if node and node.default_value else None


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


class DocumentCost:
    """The cost of a document's operations with one request's variables.

    `reads_variables` says whether any variable was read: a cost that read none holds for every
    request of the same text."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any] | None,
        default_list_size: int,
    ) -> None:
        self.schema = schema
        self.declared = declarations(schema)
        self.fragments = fragments
        self.variables = variables or {}
        self.defaults: dict[str, Any] = {}
        self.default_list_size = default_list_size
        self.memo: dict[tuple[str, Sizing], int] = {}
        self.in_progress: set[str] = set()  # a cycle is NoFragmentCyclesRule's to report
        self.reads_variables = False

    def operation(self, node: OperationDefinitionNode) -> int:
        self.defaults = {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in node.variable_definitions or ()
            if d.default_value is not None
        }
        self.memo.clear()
        root = self.schema.get_root_type(node.operation)
        return self.selections(node.selection_set, root, NO_SIZING)

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, sizing: Sizing
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, sizing)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, inner, sizing)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(selection.name.value, sizing)
        return total

    def spread(self, name: str, sizing: Sizing) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.in_progress:
            return 0
        key = (name, sizing)
        if key not in self.memo:
            self.in_progress.add(name)
            fragment_type = self.schema.get_type(fragment.type_condition.name.value)
            self.memo[key] = self.selections(fragment.selection_set, fragment_type, sizing)
            self.in_progress.discard(name)
        return self.memo[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, sizing: Sizing) -> int:
        info = self.declared.info(parent, node.name.value) if parent is not None else None
        if info is None:
            return 0  # __typename, introspection, or unknown (validation refuses it)
        if info.is_list:
            n, fixed = self.list_size(node, info, sizing)
            item = 0 if fixed and info.free_fixed_items else 1
            inner = (
                self.selections(node.selection_set, info.named, NO_SIZING)
                if node.selection_set
                else 0
            )
            return info.weight + n * (item + inner)
        if node.selection_set is None:
            return info.weight
        return info.weight + self.selections(
            node.selection_set, info.named, self.sizing_of(node, info)
        )

    def list_size(self, node: FieldNode, info: FieldInfo, sizing: Sizing) -> tuple[int, bool]:
        """n, and whether it is the list's fixed size (assumedSize or the default)."""
        if sizing is not NO_SIZING:
            if node.name.value in sizing.sized_fields:
                return sizing.n, False
            if node.name.value == "days" and sizing.days is not None and not info.slicing_arguments:
                return sizing.days, False
        sliced = self.sliced(node, info)
        if sliced is not None:
            return sliced, False
        if info.assumed_size is not None:
            return info.assumed_size, True
        return self.default_list_size, True

    def sliced(self, node: FieldNode, info: FieldInfo) -> int | None:
        """The largest slicing argument given, else the largest default; None without one."""
        if not info.slicing_arguments:
            return None
        given = [
            size
            for argument in info.slicing_arguments
            if (size := _size_of(self.argument(node, argument))) is not None
        ]
        return max(given) if given else info.default_size

    def sizing_of(self, node: FieldNode, info: FieldInfo) -> Sizing:
        days = None
        if info.ranged:
            first, last = _day(self.argument(node, "from")), _day(self.argument(node, "to"))
            span = (last - first).days + 1 if first and last else MAX_REPORT_DAYS
            days = min(max(span, 1), MAX_REPORT_DAYS)
        if not info.sized_fields:
            return NO_SIZING if days is None else Sizing(days=days)
        n = self.sliced(node, info)
        if n is None:
            n = info.assumed_size if info.assumed_size is not None else self.default_list_size
        return Sizing(n, info.sized_fields, days)

    def argument(self, node: FieldNode, name: str) -> Any:
        """The argument's value in this request (a variable's value, or its default); None when
        absent or null."""
        for argument in node.arguments or ():
            if argument.name.value == name:
                return self.value(argument.value)
        return None

    def value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            self.reads_variables = True
            name = node.name.value
            return self.variables[name] if name in self.variables else self.defaults.get(name)
        self.reads_variables = self.reads_variables or _has_variable(node)
        return value_from_ast_untyped(node, {**self.defaults, **self.variables})


def _has_variable(node: ValueNode) -> bool:
    if isinstance(node, VariableNode):
        return True
    values = getattr(node, "values", None)
    if values is not None:
        return any(_has_variable(v) for v in values)
    fields = getattr(node, "fields", None)
    return fields is not None and any(_has_variable(f.value) for f in fields)


def operation_cost(
    schema: GraphQLSchema,
    document: Any,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
    default_list_size: int = 100,
) -> tuple[int, bool]:
    """The cost of the operation a request runs, and whether it read a variable."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    if len(chosen) != 1:
        return 0, False  # no such operation: execution refuses it, nothing runs
    measure = DocumentCost(schema, fragments, variables, default_list_size)
    return measure.operation(chosen[0]), measure.reads_variables
