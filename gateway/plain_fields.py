"""Completes the plain fields of an object in one step, not field by field through graphql-core.

A search page is 20 events of a dozen fields each, with their venues, prices, edges and facets:
~400 fields, nearly all of them plain attributes (a Strawberry field without a resolver, field
extension or permission). graphql-core executes each one alone (its resolve info, path, argument
check, awaitable check, completion by type), which made a page cost ~4 ms of the gateway's CPU:
two thirds of a search's (bench `search-gateway`, README "What the search profile says").

`PlainFieldsExecutor` keeps graphql-core's answer and takes a shortcut where nothing can differ:
when every field selected on an object is plain, has no arguments and nothing is deferred, it
reads the attributes and coerces the leaves itself (nested plain objects and lists alike), with
the plan for that selection made once per request. Anything unexpected on the way (a null
where the schema says non-null, a value a scalar refuses, a failing attribute, an object of
another type) abandons the shortcut for that object, and graphql-core completes it as always,
with its errors and paths. Fields with resolvers (the connections, `listings`, `seller`) are
executed by graphql-core as before; their results' plain fields take the shortcut again."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import DeferUsage, FieldDetailsList, GroupedFieldSet
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

Complete = Callable[[Any], Any]
SHARED_PLANS = 1024  # plans kept across requests (a few per distinct query text)
# (response name, how the field's value is read from the object or None for __typename, how it
# is completed)
Plan = list[tuple[str, Callable[[Any], Any] | None, Complete]]
_MIN_INT, _MAX_INT = -(2**31), 2**31 - 1  # GraphQL's Int


class NotPlain(Exception):
    """The shortcut cannot answer this value: graphql-core completes the object instead."""


def _is_plain_resolver(field: Any) -> bool:
    resolve = field.resolve
    if resolve is None or getattr(resolve, "__name__", "") != "_get_basic_result":
        return False
    definition = field.extensions.get("strawberry-definition")
    return definition is not None and definition.is_basic_field


def _without_directives(node: Any) -> bool:
    """Whether no field or fragment under `node` has a directive (so which fields a selection
    collects does not depend on the variables)."""
    if getattr(node, "directives", None):
        return False
    selection_set = getattr(node, "selection_set", None)
    return selection_set is None or all(
        _without_directives(child) for child in selection_set.selections
    )


# Plans by (schema, operation, parent type, the selection's field nodes), kept with the operation
# they were made for, so no node's id is reused while its plan is kept. Only for operations
# without directives: with @include/@skip, what a selection collects depends on the variables.
# The parsed documents are cached (gateway/schema.py), so a query text's nodes are the same
# objects from one request to the next.
_shared: dict[tuple[int, ...], tuple[Any, Plan | None]] = {}
_shareable: dict[int, tuple[Any, bool]] = {}


class PlainFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[str, int], Plan | None] = {}
        self._share = self._operation_shareable()

    def _operation_shareable(self) -> bool:
        known = _shareable.get(id(self.operation))
        if known is not None and known[0] is self.operation:
            return known[1]
        nodes = [self.operation, *self.fragments.values()]
        shareable = all(_without_directives(node) for node in nodes)
        if len(_shareable) >= SHARED_PLANS:
            _shareable.clear()
        _shareable[id(self.operation)] = (self.operation, shareable)
        return shareable

    def execute_collected_subfields(  # type: ignore[override]
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: GroupedFieldSet,
        new_defer_usages: Sequence[DeferUsage],
        delivery_group_map: Any = None,
    ) -> Any:
        # Strawberry always passes a manager; it wraps resolvers only for extensions that
        # implement `resolve` (none here), which the shortcut would skip.
        middleware = self.middleware_manager
        if (
            delivery_group_map is None
            and not new_defer_usages
            and not (middleware and middleware.middlewares)
        ):
            plan = self._plan(parent_type, grouped_field_set)
            if plan is not None:
                try:
                    return _complete_object(plan, parent_type, source_value)
                except Exception:  # NotPlain, or a failure graphql-core reports with its path
                    pass
        return super().execute_collected_subfields(
            parent_type, source_value, path, grouped_field_set, new_defer_usages, delivery_group_map
        )

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> Plan | None:
        """How to complete these fields of this type, or None when one of them is not plain.
        graphql-core memoizes a selection's grouped fields per request (and keeps them alive),
        so their identity keys the plan."""
        key = (parent_type.name, id(fields))
        if key in self._plans:
            return self._plans[key]
        shared_key = None
        if self._share:
            nodes = (id(d.node) for details in fields.values() for d in details)
            shared_key = (id(self.schema), id(self.operation), id(parent_type), *nodes)
            kept = _shared.get(shared_key)
            if kept is not None and kept[0] is self.operation:
                self._plans[key] = kept[1]
                return kept[1]
        self._plans[key] = None  # a cycle (an object selecting itself) is not plain
        plan: Plan | None = []
        for response_name, details in fields.items():
            step = self._step(parent_type, details)
            if step is None:
                plan = None
                break
            plan.append((response_name, *step))  # type: ignore[union-attr]
        self._plans[key] = plan
        if shared_key is not None:
            if len(_shared) >= SHARED_PLANS:
                _shared.clear()
            _shared[shared_key] = (self.operation, plan)
        return plan

    def _step(
        self, parent_type: GraphQLObjectType, details: FieldDetailsList
    ) -> tuple[Callable[..., Any] | None, Complete] | None:
        if any(d.node.arguments or d.defer_usage is not None for d in details):
            return None
        name = details[0].node.name.value
        if name == "__typename":
            return None, lambda _: parent_type.name
        field = parent_type.fields.get(name)
        if field is None or not _is_plain_resolver(field):
            return None
        complete = self._completer(field.type, details)
        return None if complete is None else (_reader(field), complete)

    def _completer(self, type_: GraphQLOutputType, details: FieldDetailsList) -> Complete | None:
        if isinstance(type_, GraphQLNonNull):
            inner = self._completer(type_.of_type, details)
            if inner is None:
                return None

            def non_null(value: Any) -> Any:
                if value is None:
                    raise NotPlain
                return inner(value)

            return non_null
        if isinstance(type_, GraphQLList):
            item = self._completer(type_.of_type, details)
            if item is None:
                return None
            return lambda value: None if value is None else _each(item, value)
        if is_leaf_type(type_):
            coerce = type_.coerce_output_value  # type: ignore[union-attr]
            return _leaf_completer(type_, coerce)
        if isinstance(type_, GraphQLObjectType):
            grouped, defer_usages, _ = self.collect_subfields(type_, details)
            if defer_usages:
                return None
            plan = self._plan(type_, grouped)
            if plan is None:
                return None
            return lambda value: None if value is None else _complete_object(plan, type_, value)
        return None  # interfaces and unions: graphql-core resolves their type


def _reader(field: Any) -> Callable[[Any], Any]:
    """How a plain field's value is read: the attribute itself, as Strawberry's basic resolver
    reads it (`StrawberryField.get_result` with getattr, the schema's default resolver), without
    its two calls per field; any other resolver is called as graphql-core would."""
    definition = field.extensions["strawberry-definition"]
    if (
        type(definition).get_result is StrawberryField.get_result
        and definition.base_resolver is None
        and definition.default_resolver is getattr
    ):
        return attrgetter(definition.python_name)
    resolve = field.resolve
    return lambda value: resolve(value, None)


def _leaf_completer(type_: Any, coerce: Callable[[Any], Any]) -> Complete:
    """A leaf's completion; the built-in scalars' usual values as graphql-core's coercion
    returns them (a str as a String or ID, a bool as a Boolean, an int in range as an Int),
    anything else through that coercion."""
    if type_ is GraphQLString or type_ is GraphQLID:
        return lambda value: value if type(value) is str else _leaf_or_null(coerce, value)
    if type_ is GraphQLBoolean:
        return lambda value: value if type(value) is bool else _leaf_or_null(coerce, value)
    if type_ is GraphQLInt:
        return lambda value: (
            value
            if type(value) is int and _MIN_INT <= value <= _MAX_INT
            else _leaf_or_null(coerce, value)
        )
    return lambda value: _leaf_or_null(coerce, value)


def _leaf_or_null(coerce: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else _leaf(coerce, value)


def _leaf(coerce: Callable[[Any], Any], value: Any) -> Any:
    coerced = coerce(value)
    if coerced is None or coerced is Undefined:
        raise NotPlain
    return coerced


def _each(item: Complete, value: Any) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise NotPlain
    return [item(element) for element in value]


def _complete_object(plan: Plan, type_: GraphQLObjectType, value: Any) -> dict[str, Any]:
    if type_.is_type_of is not None and type_.is_type_of(value, None) is not True:
        raise NotPlain
    return {name: complete(value if read is None else read(value)) for name, read, complete in plan}
