"""`python -m tools.persisted_check` (part of `make lint`): the registered clients' persisted-query
manifests (docs/api.md PQ-4), `persisted/clients/<client>/<app-version>.json`.

Each manifest is Apollo's format (`apollo-persisted-query-manifest`, version 1); each operation's
`id` is the SHA-256 of its `body` (what the client sends must be exactly that body, or its
hash), its `type` is the operation's, and its body is one named operation (with the fragments it
spreads) that validates against the committed schema.graphql, passes the gateway's document
limits (tokens, depth, aliases, mutations, selections; no introspection, as in production) and
costs at most the limit with every list at its largest page (each `Int` variable without a default
at the largest page size, each list variable at 100 items, report ranges at 366 days). The limits
are the gateway's defaults, which the Kubernetes overlays keep (GRAPHQL_MAX_*); the measures are
the gateway's own: gateway/query_limits.py's validation rule and gateway/document_cost.py's cost.

Because these operations are checked on every schema change, a change that would break a
registered client fails here, before it ships (EVO-5).

python -m tools.persisted_check [--clients DIR] [--schema FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    build_schema,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from gateway.document_cost import operation_cost
from gateway.persisted_queries import (
    ManifestError,
    ManifestOperation,
    client_manifests,
    id_problem,
    manifest_operations,
)
from gateway.query_limits import QueryLimits, query_limits_rule

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "persisted" / "clients"
SCHEMA = ROOT / "schema.graphql"
# The production limits: the gateway's defaults, which every overlay keeps.
LIMITS = QueryLimits(introspection=False)


def limit_rules(limits: QueryLimits = LIMITS) -> list:
    """The gateway's document limits as validation rules (gateway/query_limits.py)."""
    return [query_limits_rule(limits), NoSchemaIntrospectionCustomRule]


def operation_problems(
    schema: GraphQLSchema, operation: ManifestOperation, limits: QueryLimits = LIMITS
) -> list[str]:
    """What is wrong with one registered operation; none when it would run as registered."""
    try:
        document: DocumentNode = parse(operation.body, max_tokens=limits.max_tokens)
    except GraphQLError as exc:
        return [f"does not parse: {exc.message}"]
    definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(definitions) != 1:
        return [f"holds {len(definitions)} operations; a registered body holds one"]
    [definition] = definitions
    problems = []
    name = definition.name.value if definition.name else None
    if name != operation.name:
        problems.append(f"its operation is named {name!r}, the manifest says {operation.name!r}")
    if definition.operation.value != operation.type:
        problems.append(f"is a {definition.operation.value}, the manifest says {operation.type}")
    # The limits first, as the gateway runs them: a document over one is not validated further.
    rules = [*limit_rules(limits), *specified_rules]
    invalid = [error.message for error in validate(schema, document, rules)]
    if invalid:
        return problems + invalid
    cost, _ = operation_cost(
        schema,
        document,
        largest_variables(definition, limits.default_list_size),
        default_list_size=limits.default_list_size,
    )
    if cost > limits.max_cost:
        problems.append(
            f"costs {cost} with every list at its largest, more than the limit of "
            f"{limits.max_cost} (COST_LIMIT)"
        )
    return problems


def largest_variables(definition: OperationDefinitionNode, page: int) -> dict[str, object]:
    """Values for the operation's variables that make every list as long as it can be: an
    `Int` at the largest page, a list at `page` items; others unset (their defaults apply)."""
    values: dict[str, object] = {}
    for variable in definition.variable_definitions or ():
        if variable.default_value is not None:
            continue
        kind = variable.type
        if isinstance(kind, NonNullTypeNode):
            kind = kind.type
        if isinstance(kind, ListTypeNode):
            values[variable.variable.name.value] = [None] * page
        elif isinstance(kind, NamedTypeNode) and kind.name.value == "Int":
            values[variable.variable.name.value] = page
    return values


def check(clients: Path = CLIENTS, schema_file: Path = SCHEMA) -> list[str]:
    schema = build_schema(schema_file.read_text())
    problems = []
    manifests = client_manifests(clients)
    files = [p for p in clients.rglob("*") if p.is_file() and p.name != "README.md"]
    stray = sorted(p for p in files if p not in manifests)
    problems += [
        f"{path}: not a manifest: manifests are <client>/<app-version>.json" for path in stray
    ]
    for path in manifests:
        try:
            operations = manifest_operations(path)
        except ManifestError as exc:
            problems.append(str(exc))
            continue
        for index, operation in enumerate(operations):
            where = f"{path}: operations[{index}] ({operation.name})"
            if problem := id_problem(operation):
                problems.append(f"{where}: {problem}")
            problems += [f"{where}: {p}" for p in operation_problems(schema, operation)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=Path, default=CLIENTS)
    parser.add_argument("--schema", type=Path, default=SCHEMA)
    args = parser.parse_args(argv)
    problems = check(args.clients, args.schema)
    for problem in problems:
        print(problem, file=sys.stderr)
    manifests = client_manifests(args.clients)
    if problems:
        print(f"persisted queries: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"persisted queries: {len(manifests)} client manifest(s) checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
