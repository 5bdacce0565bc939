"""What a document costs with this request's variables (docs/api.md COST-2), from the costs the
schema declares (gateway/cost.py).

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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    value_from_ast_untyped,
)

from gateway.cost import MAX_REPORT_DAYS, FieldInfo, declarations, size_of


@dataclass(frozen=True)
class Sizing:
    """What a field passes down to its selections: a connection's n for its sizedFields, a
    report's days."""

    n: int = 0
    sized_fields: tuple[str, ...] = ()
    days: int | None = None


NO_SIZING = Sizing()


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
            if (size := size_of(self.argument(node, argument))) is not None
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
