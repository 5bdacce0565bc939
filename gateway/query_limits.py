"""How much one GraphQL document may ask for, checked before anything runs.

One validation rule measures each operation once, fragments expanded (each fragment measured once,
so a "fragment bomb" that spreads a fragment twice at each of 30 levels costs 30 steps, not 2^30:
Strawberry's QueryDepthLimiter and MaxAliasesLimiter walk every expansion, and took seconds of CPU
for 25 lines of query). Its verdict is cached per query text, with the validation's:

- depth: nested selections, introspection fields left out (GRAPHQL_MAX_DEPTH);
- aliases, counted in the expanded document (GRAPHQL_MAX_ALIASES);
- root fields of a mutation: each is a command, run one after the other (GRAPHQL_MAX_MUTATIONS);
- selections, the work of graphql-core's OverlappingFieldsCanBeMergedRule (MAX_SELECTIONS).

Those refusals are BAD_USER_INPUT. The cost (docs/api.md COST-2, gateway/document_cost.py: the
schema's `@cost` and `@listSize` directives) depends on the request's variables (`first: $n` counts
n), so `CostLimit` checks it per request, when execution starts: over GRAPHQL_MAX_COST nothing runs
and the answer is `data: null` with one COST_LIMIT error carrying `cost` and `limit` (COST-3). A
cost that read no variable is kept per query text, like the validation's verdict.

The number of tokens is bounded by the parser itself (a parse option `DocumentLimits` sets,
GRAPHQL_MAX_TOKENS), which also bounds the work of every other validation rule. The rule class is
made once per schema: the rules are part of the validation cache's key.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from graphql import (
    SKIP,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VisitorAction,
    get_named_type,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.validation import NoSchemaIntrospectionCustomRule
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType as StrawberryOperationType

from common.pagination import MAX_PAGE_SIZE
from gateway.document_cost import operation_cost


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_cost: int = 1_000
    max_mutations: int = 10
    introspection: bool = True
    # What a list without @listSize counts for (the schema test allows none): the largest page.
    default_list_size: int = MAX_PAGE_SIZE


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
        for name, count in other.repeats.items():
            self.repeats[name] = self.repeats.get(name, 0) + count
        for name, weight in other.weights.items():
            self.weights[name] = self.weights.get(name, 0) + weight


_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


class _Measurer:
    """Measures the selection sets of one document; fragments memoized by name."""

    def __init__(self, context: ValidationContext) -> None:
        self.schema = context.schema
        self.fragments = {
            d.name.value: d
            for d in context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, Measure] = {}
        self.in_progress: set[str] = set()  # a cycle is NoFragmentCyclesRule's to report

    def operation(self, node: OperationDefinitionNode) -> Measure:
        return self.selections(node.selection_set, self.schema.get_root_type(node.operation))

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> Measure:
        total = Measure()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total.include(self.field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total.include(self.selections(selection.selection_set, inner))
            elif isinstance(selection, FragmentSpreadNode):
                total.include(self.spread(selection.name.value))
        return total

    def spread(self, name: str) -> Measure:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.in_progress:
            return Measure()
        if name not in self.memo:
            self.in_progress.add(name)
            fragment_type = self.schema.get_type(fragment.type_condition.name.value)
            self.memo[name] = self.selections(fragment.selection_set, fragment_type)
            self.in_progress.discard(name)
        return self.memo[name]

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
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
        inner = self.selections(node.selection_set, get_named_type(field_type))
        depth = 0 if name.startswith("__") else 1 + inner.depth
        return Measure(
            depth,
            aliases + inner.aliases,
            {response_name: 1},
            {response_name: 1 + inner.selections},
        )


def query_limits_rule(limits: QueryLimits) -> type[ValidationRule]:
    class QueryLimitsRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: object) -> VisitorAction:
            # First, before any other rule looks at the selections, and within the visit:
            # a document over a limit ends the validation there (graphql-core's other rules
            # never run on it), and a RecursionError becomes "Validation aborted.".
            measurer = _Measurer(self.context)
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


# The code of an operation refused for its cost (docs/api.md COST-3), with `cost` and `limit`.
COST_LIMIT = "COST_LIMIT"


class CostLimitExceeded(Exception):
    """An operation that costs more than GRAPHQL_MAX_COST: refused whole (COST_LIMIT)."""

    def __init__(self, operation: str, cost: int, limit: int) -> None:
        super().__init__(f"'{operation}' costs {cost}, more than the limit of {limit}")
        self.cost = cost
        self.limit = limit


# Texts whose cost read no variable, and that cost: the same few texts come again and again.
COST_CACHE_SIZE = 128
CACHED_COST_MAX_CHARS = 2_048


class CostCache:
    """Costs by (query text, operation name), least recently used out first."""

    def __init__(self, size: int = COST_CACHE_SIZE) -> None:
        self.size = size
        self.costs: OrderedDict[tuple[str, str | None], int] = OrderedDict()

    def get(self, key: tuple[str, str | None]) -> int | None:
        cost = self.costs.get(key)
        if cost is not None:
            self.costs.move_to_end(key)
        return cost

    def put(self, key: tuple[str, str | None], cost: int) -> None:
        self.costs[key] = cost
        self.costs.move_to_end(key)
        while len(self.costs) > self.size:
            self.costs.popitem(last=False)


class CostLimit(SchemaExtension):
    """Refuses an operation over GRAPHQL_MAX_COST, with this request's variables, before it runs.

    When execution starts, the document is valid and the variables are known: a result set in
    `on_execute` is answered instead of executing (ErrorCodes gives it its code); a subscription
    is refused by raising, which Strawberry answers as the subscription's one result."""

    def __init__(self, *, limits: QueryLimits, cache: CostCache) -> None:
        super().__init__()
        self.limits = limits
        self.cache = cache

    def cost(self) -> tuple[int, str]:
        context = self.execution_context
        document = context.graphql_document
        operation = context.operation_name
        query = context.query or ""
        key = (query, operation)
        cached = self.cache.get(key) if query else None
        if cached is None:
            cached, read_variables = operation_cost(
                context.schema._schema,  # the graphql-core schema Strawberry executes
                document,
                context.variables,
                operation,
                self.limits.default_list_size,
            )
            if query and not read_variables and len(query) <= CACHED_COST_MAX_CHARS:
                self.cache.put(key, cached)
        return cached, operation or _operation_name(document)

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and context.graphql_document is not None:
            cost, name = self.cost()
            if cost > self.limits.max_cost:
                refusal = CostLimitExceeded(name, cost, self.limits.max_cost)
                if context.operation_type is StrawberryOperationType.SUBSCRIPTION:
                    raise refusal
                error = GraphQLError(str(refusal), original_error=refusal)
                context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield


def _operation_name(document: DocumentNode) -> str:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name:
            return definition.name.value
    return "anonymous"


class DocumentLimits(SchemaExtension):
    """Sets the token limit (a parse option: the parser stops past it) and adds the limits'
    validation rules as the operation starts: what Strawberry's MaxTokensLimiter and
    AddValidationRules did, in one hook instead of two (each an extension and a context manager
    entered and left on every request)."""

    def __init__(self, *, max_tokens: int, rules: tuple[type[ValidationRule], ...]) -> None:
        self.max_tokens = max_tokens
        self.rules = rules

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = context.validation_rules + self.rules
        yield


def limit_extensions(limits: QueryLimits) -> list[Callable[[], SchemaExtension]]:
    """The schema's extensions that bound a document, as factories (one per request)."""
    rules: list[type[ValidationRule]] = [query_limits_rule(limits)]
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return [
        functools.partial(DocumentLimits, max_tokens=limits.max_tokens, rules=tuple(rules)),
        functools.partial(CostLimit, limits=limits, cache=CostCache()),
    ]
