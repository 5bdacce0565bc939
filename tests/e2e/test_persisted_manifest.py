"""The web app's persisted-query manifest as `make web` writes it (web/dist/
persisted-operations.json, docs/api.md PQ-3): every operation a module of web/src/app/operations/
exports, each id its body's SHA-256, each body valid against schema.graphql within the production
limits (tools/persisted_check.py's checks, as for a registered client); and the gateway of
`ticketing run` (WEB_DIST_DIR = web/dist) runs them by hash alone, with no text ever sent.

How the bodies match what urql sends (cacheExchange's `__typename`s, stringifyDocument) is the
script's business (web/scripts/persisted-manifest.ts dispatches each operation through urql's own
cacheExchange); here, that the file is complete and true to its own ids."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from graphql import build_schema

from gateway.persisted_queries import MANIFEST_FORMAT, WEB_MANIFEST, read_manifest, sha256_hex
from tools.persisted_check import operation_problems

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "web" / "src" / "app" / "operations"
BUILT = ROOT / "web" / "dist" / WEB_MANIFEST


def exported_operations() -> dict[str, str]:
    """Operation name -> type of every `export const X = graphql(` `<type> <Name>` in every module
    of the folder: read from the TypeScript here, not from the script's output."""
    pattern = re.compile(
        r"export const \w+ = graphql\(\s*`\s*(query|mutation|subscription)\s+(\w+)", re.S
    )
    found = [
        (name, kind)
        for module in sorted(OPERATIONS.glob("*.ts"))
        for kind, name in pattern.findall(module.read_text())
    ]
    names = [name for name, _ in found]
    assert len(names) == len(set(names)), f"an operation name is used twice: {sorted(names)}"
    return dict(found)


@pytest.fixture(scope="module")
def built() -> Path:
    assert BUILT.is_file(), f"{BUILT} is missing: `make web` writes it (make test-e2e runs it)"
    return BUILT


def test_the_manifest_has_every_exported_operation_with_true_ids(built):
    raw = orjson.loads(built.read_bytes())
    assert (raw["format"], raw["version"]) == (MANIFEST_FORMAT, 1)
    operations = read_manifest(built)  # refuses an id that is not its body's hash
    assert all(op.id == sha256_hex(op.body) for op in operations)
    exported = exported_operations()
    assert len(exported) >= 10  # the pattern still finds the app's operations
    assert {op.name: op.type for op in operations} == exported
    schema = build_schema((ROOT / "schema.graphql").read_text())
    for op in operations:
        assert operation_problems(schema, op) == [], op.name


def test_the_gateway_runs_the_web_apps_operations_by_hash_alone(built, client):
    # The queries that need no variables, signed out: each runs (its data, or the field's own
    # error such as UNAUTHENTICATED), none is unknown or refused as a request.
    queries = [op for op in read_manifest(built) if op.type == "query" and "$" not in op.body]
    assert queries
    for op in queries:
        persisted = {"persistedQuery": {"version": 1, "sha256Hash": op.id}}
        reply = client.post("/graphql", json={"operationName": op.name, "extensions": persisted})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body.get("data") is not None, (op.name, body)
        codes = {e["extensions"]["code"] for e in body.get("errors", [])}
        assert not codes & {"PERSISTED_QUERY_NOT_FOUND", "BAD_USER_INPUT"}, (op.name, body)
