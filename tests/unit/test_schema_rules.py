"""The schema follows docs/api.md's rules that a machine can check, walking every type and field:

- nullability (NULL-1..6): non-null only what the gateway guarantees once it holds the parent.
  Nullable, always: every root field of Query, Mutation and Subscription (a non-null list of
  nullable items, `nodes: [Node]!`, is allowed: the list always comes back); every field whose
  type is a Node or implements Node (a link), a list of them with nullable items; every field
  returning a connection, and a connection's `edges` items; every field declaring
  `@cost(weight:)` of 1 or more (it calls a service), but a connection's `totalCount` (counted in
  the connection's own reply, PAGE-6);
- mutations (MUT-1, MUT-2): `name(input: NameInput!): NamePayload` with
  `userErrors: [UserError!]!`; `signOut` takes no argument, the one exception;
- lists (PAGE-1, PAGE-7): every list field is bounded: a connection's `edges`/`nodes`, sized by
  the `@listSize(sizedFields:)` of every field returning the connection (which takes
  `first`/`after`/`last`/`before` and slices by `first` and `last`), or a plain list declaring
  `@listSize` with an `assumedSize` or `slicingArguments` that exist;
- cost (COST-1): every field that calls a service declares its `@cost`. A field calls a service
  when Strawberry resolves it by awaiting (an async resolver): a plain attribute read, or a sync
  resolver building from the parent's reply, calls nothing (a sync resolver handing back a
  DataLoader's future would hide its call: the fields COST-1 names are checked to be found). Two
  kinds of awaiting fields are not service calls: `Query.currentUser` and `User.email` read the
  caller's verified token (checked once per request, whatever the fields), and a subscription's
  root field is an event stream (its document is costed once, when it starts).

Each check runs on the schema the gateway builds and on the committed schema.graphql, and each is
shown to fail on a small schema that breaks it.
"""

from __future__ import annotations

from pathlib import Path

import strawberry
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    get_named_type,
    get_nullable_type,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
)

from gateway.cost import Cost, ListSize, declared_directives
from gateway.schema import build_schema as build_gateway_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
PAGING_ARGUMENTS = ("first", "after", "last", "before")
# Await the caller's verified token (checked once per request), nothing else.
NOT_SERVICE_CALLS = {"Query.currentUser", "User.email", "User.isAdmin"}


def output_fields(schema: GraphQLSchema):
    for name, named in sorted(schema.type_map.items()):
        if name.startswith("__") or not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for field_name, field in named.fields.items():
            yield named, field_name, field


def is_node(schema: GraphQLSchema, field: GraphQLField) -> bool:
    named = get_named_type(field.type)
    node = schema.get_type("Node")
    if node is None:
        return False
    if named is node:
        return True
    return isinstance(named, GraphQLObjectType | GraphQLInterfaceType) and node in named.interfaces


def is_connection(field: GraphQLField) -> bool:
    named = get_named_type(field.type)
    return named.name.endswith("Connection") and isinstance(named, GraphQLObjectType)


def weight(schema: GraphQLSchema, field: GraphQLField) -> int | None:
    cost = declared_directives(field, schema).get("cost")
    return cost["weight"] if cost else None


def roots(schema: GraphQLSchema) -> set[str]:
    return {
        t.name for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t
    }


# --- the rules ----------------------------------------------------------------------------------


def nullability_violations(schema: GraphQLSchema) -> list[str]:
    found = []
    for parent, name, field in output_fields(schema):
        where = f"{parent.name}.{name}"
        nullable = not is_non_null_type(field.type)
        inner = get_nullable_type(field.type)
        items_nullable = is_list_type(inner) and not is_non_null_type(inner.of_type)
        may_fail = nullable or items_nullable  # a list that always comes back, items may not
        if parent.name in roots(schema) and not may_fail:
            found.append(f"{where}: a root field is nullable (NULL-1, NULL-2)")
        elif is_node(schema, field) and not may_fail:
            found.append(f"{where}: a link (its type is a Node) is nullable (NULL-3, NULL-4)")
        elif is_connection(field) and not nullable:
            found.append(f"{where}: a connection is nullable (NULL-4)")
        elif (w := weight(schema, field)) is not None and w >= 1 and not may_fail:
            if not (name == "totalCount" and parent.name.endswith("Connection")):
                found.append(f"{where}: it calls a service (@cost {w}), so it is nullable (NULL-6)")
        if parent.name.endswith("Connection") and name == "edges" and not items_nullable:
            found.append(f"{where}: a connection's edges are nullable items (NULL-4)")
    return found


def mutation_violations(schema: GraphQLSchema) -> list[str]:
    found = []
    for name, field in (schema.mutation_type.fields if schema.mutation_type else {}).items():
        where = f"Mutation.{name}"
        title = name[:1].upper() + name[1:]
        if name == "signOut":
            if field.args:
                found.append(f"{where}: signOut takes no argument (MUT-1)")
        else:
            argument = field.args.get("input")
            named = get_named_type(argument.type) if argument else None
            if (
                list(field.args) != ["input"]
                or not is_non_null_type(argument.type)
                or not is_input_object_type(named)
                or named.name != f"{title}Input"
            ):
                found.append(f"{where}: takes exactly `input: {title}Input!` (MUT-1)")
        result = field.type
        payload = get_named_type(result)
        if is_non_null_type(result) or payload.name != f"{title}Payload":
            found.append(f"{where}: returns a nullable {title}Payload (MUT-1, NULL-2)")
        errors = getattr(payload, "fields", {}).get("userErrors")
        if errors is None or str(errors.type) != "[UserError!]!":
            found.append(f"{where}: its payload has `userErrors: [UserError!]!` (MUT-2)")
    return found


def list_violations(schema: GraphQLSchema) -> list[str]:
    found = []
    sized: dict[str, list[set[str]]] = {}  # connection type: the sizedFields of each field to it
    for parent, name, field in output_fields(schema):
        size = declared_directives(field, schema).get("listSize") or {}
        if not is_connection(field):
            continue
        where = f"{parent.name}.{name}"
        sized.setdefault(get_named_type(field.type).name, []).append(
            set(size.get("sizedFields") or ())
        )
        missing = [a for a in PAGING_ARGUMENTS if a not in field.args]
        if missing:
            found.append(f"{where}: a connection takes first/after/last/before (PAGE-1)")
        if not {"first", "last"} <= set(size.get("slicingArguments") or ()):
            found.append(f"{where}: @listSize(slicingArguments: [first, last]) (COST-1)")
        if not {"edges", "nodes"} <= set(size.get("sizedFields") or ()):
            found.append(f"{where}: @listSize(sizedFields: [edges, nodes]) (COST-1)")
    for parent, name, field in output_fields(schema):
        size = declared_directives(field, schema).get("listSize") or {}
        unknown = [a for a in size.get("slicingArguments") or () if a not in field.args]
        if unknown:
            found.append(f"{parent.name}.{name}: @listSize slices by arguments it lacks: {unknown}")
    for parent, name, field in output_fields(schema):
        if not is_list_type(get_nullable_type(field.type)):
            continue
        where = f"{parent.name}.{name}"
        size = declared_directives(field, schema).get("listSize")
        by_connection = parent.name in sized and all(name in s for s in sized[parent.name])
        if size is None:
            if not by_connection:
                found.append(f"{where}: an unbounded list: a connection or @listSize (PAGE-7)")
            continue
        slicing = size.get("slicingArguments") or ()
        if size.get("assumedSize") is None and not slicing and not by_connection:
            found.append(f"{where}: @listSize declares no size (assumedSize or slicing)")
    return found


def calls_a_service(field: GraphQLField) -> bool:
    definition = (field.extensions or {}).get("strawberry-definition")
    resolver = getattr(definition, "base_resolver", None)
    return resolver is not None and bool(resolver.is_async)


def cost_violations(schema: GraphQLSchema) -> list[str]:
    found = []
    subscription = schema.subscription_type.name if schema.subscription_type else None
    for parent, name, field in output_fields(schema):
        where = f"{parent.name}.{name}"
        if parent.name == subscription or where in NOT_SERVICE_CALLS:
            continue
        if calls_a_service(field) and weight(schema, field) is None:
            found.append(f"{where}: it calls a service and declares no @cost (COST-1)")
    return found


# --- the schema the gateway builds, and the committed one ----------------------------------------

BUILT = build_gateway_schema()._schema
COMMITTED = build_schema(SCHEMA_FILE.read_text())


def test_the_built_schema_follows_the_rules():
    assert nullability_violations(BUILT) == []
    assert mutation_violations(BUILT) == []
    assert list_violations(BUILT) == []
    assert cost_violations(BUILT) == []


def test_schema_graphql_follows_the_rules():
    assert nullability_violations(COMMITTED) == []
    assert mutation_violations(COMMITTED) == []
    assert list_violations(COMMITTED) == []


def test_every_service_calling_field_of_the_built_schema_is_found():
    # The cost rule is only as good as its detector: the fields COST-1 names as service calls.
    calling = {f"{p.name}.{n}" for p, n, f in output_fields(BUILT) if calls_a_service(f)}
    named = {"Order.ticket", "Order.payment", "Query.ticket", "Query.node"}
    named |= {"Query.orders", "Query.tickets", "Query.sellerReport", "Query.recommendedTickets"}
    assert named <= calling
    assert "Ticket.title" not in calling
    # A ticket's state comes with the ticket from its one authority: no call of its own.
    assert "Ticket.state" not in calling


# --- each rule fails on a schema that breaks it --------------------------------------------------

BASE = """
directive @cost(weight: Int!) on FIELD_DEFINITION | OBJECT | ARGUMENT_DEFINITION
directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!],
  requireOneSlicingArgument: Boolean = false) on FIELD_DEFINITION
interface Node { id: ID! }
type User implements Node { id: ID!  name: String! }
type UserError { code: String!  message: String! }
type PageInfo { hasNextPage: Boolean! }
type UserEdge { cursor: String!  node: User }
type UserConnection { edges: [UserEdge]!  nodes: [User]!  pageInfo: PageInfo! }
input RenameInput { name: String! }
type RenamePayload { user: User  userErrors: [UserError!]! @listSize(assumedSize: 5) }
"""

GOOD = (
    BASE
    + """
type Order implements Node {
  id: ID!  buyer: User  total: Int!  tags: [String!]! @listSize(assumedSize: 3)
}
type Query {
  node(id: ID!): Node @cost(weight: 1)
  users(first: Int = 20, after: String, last: Int, before: String): UserConnection
    @cost(weight: 1) @listSize(slicingArguments: ["first", "last"], sizedFields: ["edges", "nodes"])
}
type Mutation { rename(input: RenameInput!): RenamePayload @cost(weight: 10) }
"""
)


def test_a_schema_that_follows_the_rules_passes_them():
    good = build_schema(GOOD)
    assert nullability_violations(good) == []
    assert mutation_violations(good) == []
    assert list_violations(good) == []


def test_a_non_null_link_fails():
    bad = build_schema(GOOD.replace("buyer: User ", "buyer: User! "))
    assert nullability_violations(bad) == [
        "Order.buyer: a link (its type is a Node) is nullable (NULL-3, NULL-4)"
    ]


def test_non_null_root_fields_connections_and_service_calls_fail():
    bad = build_schema(
        GOOD.replace("node(id: ID!): Node @cost", "node(id: ID!): Node! @cost")
        .replace("edges: [UserEdge]!", "edges: [UserEdge!]!")
        .replace("total: Int!", "total: Int! @cost(weight: 1)")
    )
    assert nullability_violations(bad) == [
        "Order.total: it calls a service (@cost 1), so it is nullable (NULL-6)",
        "Query.node: a root field is nullable (NULL-1, NULL-2)",
        "UserConnection.edges: a connection's edges are nullable items (NULL-4)",
    ]


def test_a_mutation_with_scalar_arguments_fails():
    bad = build_schema(
        GOOD.replace(
            "rename(input: RenameInput!): RenamePayload", "rename(name: String!): RenamePayload"
        )
    )
    assert mutation_violations(bad) == [
        "Mutation.rename: takes exactly `input: RenameInput!` (MUT-1)"
    ]


def test_a_mutation_without_a_payload_and_its_user_errors_fails():
    bad = build_schema(
        GOOD.replace(
            "rename(input: RenameInput!): RenamePayload", "rename(input: RenameInput!): User!"
        )
    )
    assert mutation_violations(bad) == [
        "Mutation.rename: returns a nullable RenamePayload (MUT-1, NULL-2)",
        "Mutation.rename: its payload has `userErrors: [UserError!]!` (MUT-2)",
    ]


def test_an_unbounded_list_fails():
    bad = build_schema(
        GOOD.replace("tags: [String!]! @listSize(assumedSize: 3)", "tags: [String!]!")
    )
    assert list_violations(bad) == [
        "Order.tags: an unbounded list: a connection or @listSize (PAGE-7)"
    ]


def test_a_connection_without_backward_paging_or_sizes_fails():
    bad = build_schema(
        GOOD.replace(", last: Int, before: String", "").replace(
            ', sizedFields: ["edges", "nodes"]', ""
        )
    )
    assert list_violations(bad) == [
        "Query.users: a connection takes first/after/last/before (PAGE-1)",
        "Query.users: @listSize(sizedFields: [edges, nodes]) (COST-1)",
        "Query.users: @listSize slices by arguments it lacks: ['last']",
        "UserConnection.edges: an unbounded list: a connection or @listSize (PAGE-7)",
        "UserConnection.nodes: an unbounded list: a connection or @listSize (PAGE-7)",
    ]


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def shout(self) -> str:  # built from the parent: no call
        return self.name.upper()

    @strawberry.field
    async def owner(self) -> str | None:  # awaits: a call
        return None

    @strawberry.field(directives=[Cost(weight=1)])
    async def price(self) -> int | None:
        return None


@strawberry.type
class ItemQuery:
    @strawberry.field(directives=[Cost(weight=1), ListSize(assumed_size=3)])
    async def items(self) -> list[Item]:
        return []


def test_a_resolver_field_without_a_cost_fails():
    schema = strawberry.Schema(query=ItemQuery)._schema
    assert cost_violations(schema) == [
        "Item.owner: it calls a service and declares no @cost (COST-1)",
    ]
    assert list_violations(schema) == []
