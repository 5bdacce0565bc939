"""How much one GraphQL document may ask for, checked before anything runs.

One validation rule measures each operation once, fragments expanded (each fragment measured once
per page size, so a "fragment bomb" that spreads a fragment twice at each of 30 levels costs 30
steps, not 2^30: Strawberry's QueryDepthLimiter and MaxAliasesLimiter walk every expansion, and
took seconds of CPU for 25 lines of query):

- depth: nested selections, introspection fields left out (GRAPHQL_MAX_DEPTH, as before);
- aliases, counted in the expanded document (GRAPHQL_MAX_ALIASES);
- cost: every object field counts 1, and the items of a list under a paginated field (one with a
  `first` argument) count `first` times: `tickets(first: 100) { edges { node { id } } }` costs
  1 + 100 * (1 + 1) = 201. A `first` given as a variable counts as the largest page, since the
  verdict is cached per query text, whatever its variables (GRAPHQL_MAX_COST);
- root fields of a mutation: each is a command, run one after the other (GRAPHQL_MAX_MUTATIONS).

The number of tokens is bounded by the parser itself (Strawberry's MaxTokensLimiter,
GRAPHQL_MAX_TOKENS), which also bounds the work of every other validation rule. The rule class is
made once per schema: the rules are part of the validation cache's key.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    SKIP,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VisitorAction,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.validation import NoSchemaIntrospectionCustomRule
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension

from common.pagination import MAX_PAGE_SIZE


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_cost: int = 1_000
    max_mutations: int = 10
    introspection: bool = True
    # What a `first` given as a variable counts for: the largest page a resolver serves.
    max_page_size: int = MAX_PAGE_SIZE


# graphql-core's OverlappingFieldsCanBeMergedRule compares every two selections of one name in a
# selection set, and their sub-selections pair by pair: 490 `currentUser { id }` side by side
# (under 2,000 tokens) took 1.9 s to validate, 5 `orders` with 5 `node` with 5 `ticket` each
# 0.18-0.58 s (31,925 selections as counted here), 5 `tickets` of 5 `edges` 28 ms (1,900).
# `Measure.selections` counts that work, and a document past this bound is refused before the
# rule runs. A document without repeated fields counts its fields, fragments expanded: a page of
# orders with tickets and payments 19, the full introspection query 229.
MAX_SELECTIONS = 2_000


@dataclass
class Measure:
    """What a selection set asks for, fragments expanded. Never changed once returned."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    # Per response name at the top of the set: how often it is selected, and the summed
    # `selections` of those fields (1 each, plus their own sub-selections').
    repeats: dict[str, int] = field(default_factory=dict)
    weights: dict[str, int] = field(default_factory=dict)

    @property
    def selections(self) -> int:
        return sum(count * self.weights[name] for name, count in self.repeats.items())

    def include(self, other: Measure) -> None:
        self.depth = max(self.depth, other.depth)
        self.aliases += other.aliases
        self.cost += other.cost
        for name, count in other.repeats.items():
            self.repeats[name] = self.repeats.get(name, 0) + count
        for name, weight in other.weights.items():
            self.weights[name] = self.weights.get(name, 0) + weight


_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


class _Measurer:
    """Measures the selection sets of one document; fragments memoized by (name, page)."""

    def __init__(self, context: ValidationContext, max_page_size: int) -> None:
        self.schema = context.schema
        self.max_page_size = max_page_size
        self.fragments = {
            d.name.value: d
            for d in context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[tuple[str, int], Measure] = {}
        self.in_progress: set[str] = set()  # a cycle is NoFragmentCyclesRule's to report

    def operation(self, node: OperationDefinitionNode) -> Measure:
        return self.selections(node.selection_set, self.schema.get_root_type(node.operation), 1)

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, page: int
    ) -> Measure:
        total = Measure()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total.include(self.field(selection, parent, page))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total.include(self.selections(selection.selection_set, inner, page))
            elif isinstance(selection, FragmentSpreadNode):
                total.include(self.spread(selection.name.value, page))
        return total

    def spread(self, name: str, page: int) -> Measure:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.in_progress:
            return Measure()
        key = (name, page)
        if key not in self.memo:
            self.in_progress.add(name)
            fragment_type = self.schema.get_type(fragment.type_condition.name.value)
            self.memo[key] = self.selections(fragment.selection_set, fragment_type, page)
            self.in_progress.discard(name)
        return self.memo[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, page: int) -> Measure:
        name = node.name.value
        definition = _META_FIELDS.get(name) or getattr(parent, "fields", {}).get(name)
        field_type = definition.type if definition else None
        response_name = node.alias.value if node.alias else name
        aliases = 1 if node.alias else 0
        if node.selection_set is None:
            return Measure(
                aliases=aliases,
                repeats={response_name: 1},
                weights={response_name: 1},
            )
        items = page if is_list_type(get_nullable_type(field_type)) else 1
        inner = self.selections(
            node.selection_set, get_named_type(field_type), self.page_of(node, definition)
        )
        depth = 0 if name.startswith("__") else 1 + inner.depth
        return Measure(
            depth,
            aliases + inner.aliases,
            items * (1 + inner.cost),
            {response_name: 1},
            {response_name: 1 + inner.selections},
        )

    def page_of(self, node: FieldNode, definition: Any) -> int:
        """The items a paginated field returns at most: its `first`; 1 for other fields."""
        if definition is None or "first" not in definition.args:
            return 1
        given = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        if given is None:
            default = definition.args["first"].default_value
            return default if isinstance(default, int) else self.max_page_size
        if isinstance(given, IntValueNode):
            return max(0, int(given.value))
        return self.max_page_size  # a variable: the verdict must hold for any value


def query_limits_rule(limits: QueryLimits) -> type[ValidationRule]:
    class QueryLimitsRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: object) -> VisitorAction:
            # First, before any other rule looks at the selections, and within the visit:
            # a document over a limit ends the validation there (graphql-core's other rules
            # never run on it), and a RecursionError becomes "Validation aborted.".
            measurer = _Measurer(self.context, limits.max_page_size)
            errors = [
                GraphQLError(message, operation)
                for operation in node.definitions
                if isinstance(operation, OperationDefinitionNode)
                for message in _excesses(operation, measurer.operation(operation), limits)
            ]
            if errors:
                for error in errors[:-1]:
                    self.report_error(error)
                last = errors[-1]
                raise ValidationAbortedError(last.message, last.nodes)
            return SKIP

    return QueryLimitsRule


def _excesses(
    node: OperationDefinitionNode, measure: Measure, limits: QueryLimits
) -> Iterator[str]:
    name = node.name.value if node.name else "anonymous"
    if measure.depth > limits.max_depth:
        yield f"'{name}' exceeds maximum operation depth of {limits.max_depth}"
    if measure.aliases > limits.max_aliases:
        yield f"'{name}' has {measure.aliases} aliases; at most {limits.max_aliases} are allowed"
    if measure.cost > limits.max_cost:
        yield (
            f"'{name}' costs {measure.cost}, more than the limit of {limits.max_cost} "
            "(each object counts 1, each list item under a paginated field its `first` times)"
        )
    mutations = sum(measure.repeats.values())
    if node.operation is OperationType.MUTATION and mutations > limits.max_mutations:
        yield (
            f"'{name}' has {mutations} mutations; at most {limits.max_mutations} "
            "may run in one request"
        )
    if (selections := measure.selections) > MAX_SELECTIONS:
        yield (
            f"'{name}' is too large: {selections} field selections (a field repeated beside "
            f"others of its name counts once for each of them); at most {MAX_SELECTIONS}"
        )


def limit_extensions(limits: QueryLimits) -> list[Callable[[], SchemaExtension]]:
    """The schema's extensions that bound a document, as factories (one per request)."""
    rules: list[type[ValidationRule]] = [query_limits_rule(limits)]
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return [
        functools.partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        functools.partial(AddValidationRules, rules),
    ]
