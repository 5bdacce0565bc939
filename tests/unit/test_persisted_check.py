"""The lint of registered clients' manifests (tools/persisted_check.py, docs/api.md PQ-4), on
manifests written for each test against a small schema of its own (the check takes any schema
file), so no test depends on the API's fields; and the committed persisted/clients/ passes it
against schema.graphql, as `make lint` runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.persisted_queries import MANIFEST_FORMAT, sha256_hex
from tools import persisted_check

SDL = """
type Query {
  me: Item
  items(first: Int = 10): ItemPage!
}
type ItemPage { nodes: [Item!]! }
type Mutation { rename(name: String!): Item }
type Item { id: ID! name: String child: Item }
"""


def operation(body: str, name: str, kind: str = "query", **override) -> dict:
    return {"id": sha256_hex(body), "name": name, "type": kind, "body": body, **override}


def write(clients: Path, client: str, version: str, operations: list[dict], **top) -> Path:
    path = clients / client / f"{version}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = {"format": MANIFEST_FORMAT, "version": 1, "operations": operations, **top}
    path.write_text(json.dumps(manifest))
    return path


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    path = tmp_path / "schema.graphql"
    path.write_text(SDL)
    return path


@pytest.fixture
def clients(tmp_path: Path) -> Path:
    path = tmp_path / "clients"
    path.mkdir()
    (path / "README.md").write_text("how to register")
    return path


def test_valid_manifests_pass(clients, schema, capsys):
    write(clients, "ios", "4.2.0", [operation("query Me { me { id name } }", "Me")])
    write(
        clients,
        "android",
        "4.2.1",
        [
            operation(
                "query Items($n: Int) { items(first: $n) { nodes { ...F } } }\n"
                "fragment F on Item { id }",
                "Items",
            ),
            operation('mutation Rename { rename(name: "x") { id } }', "Rename", "mutation"),
        ],
    )
    assert persisted_check.check(clients, schema) == []
    assert persisted_check.main(["--clients", str(clients), "--schema", str(schema)]) == 0
    assert "2 client manifest(s) checked" in capsys.readouterr().out


def test_every_wrong_operation_is_reported_with_its_file_and_name(clients, schema, capsys):
    deep = "query Deep { me { " + "child { " * 11 + "id" + " }" * 11 + " } }"
    costly = (
        "query Costly { "
        + " ".join(f"a{i}: items(first: 100) {{ nodes {{ id }} }}" for i in range(11))
        + " }"
    )
    path = write(
        clients,
        "ios",
        "5.0.0",
        [
            operation("query Me { me { id } }", "Me", id=sha256_hex("query Me { me { id }}")),
            operation("query Nope { me { nope } }", "Nope"),
            operation(deep, "Deep"),
            operation(costly, "Costly"),
            operation("query Named { me { id } }", "OtherName"),
            operation("query Kind { me { id } }", "Kind", "mutation"),
            operation("query A { me { id } } query B { me { id } }", "A"),
            operation("query Introspect { __schema { types { name } } }", "Introspect"),
            operation("query Broken {", "Broken"),
        ],
    )
    problems = persisted_check.check(clients, schema)
    by_name = {}
    for problem in problems:
        assert problem.startswith(f"{path}: operations[")
        name = problem.split("(", 1)[1].split(")", 1)[0]
        by_name.setdefault(name, []).append(problem)
    assert set(by_name) == {
        "Me",
        "Nope",
        "Deep",
        "Costly",
        "OtherName",
        "Kind",
        "A",
        "Introspect",
        "Broken",
    }
    assert "SHA-256" in by_name["Me"][0]
    assert "nope" in by_name["Nope"][0]
    assert any("depth" in p for p in by_name["Deep"])
    assert any("cost" in p for p in by_name["Costly"])  # 11 x 101, over 1,000
    assert any("named 'Named'" in p for p in by_name["OtherName"])
    assert any("is a query" in p for p in by_name["Kind"])
    assert any("2 operations" in p for p in by_name["A"])
    assert any("introspection" in p.lower() for p in by_name["Introspect"])
    assert any("does not parse" in p for p in by_name["Broken"])
    assert persisted_check.main(["--clients", str(clients), "--schema", str(schema)]) == 1
    assert "problem(s)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"format": "something-else", "version": 1, "operations": []}, "`format`"),
        ({"format": MANIFEST_FORMAT, "version": 2, "operations": []}, "`version`"),
        ({"format": MANIFEST_FORMAT, "version": 1, "operations": [{"id": "x"}]}, "needs string"),
    ],
)
def test_a_manifest_not_in_apollos_format_is_reported(clients, schema, manifest, message):
    path = clients / "partner" / "1.0.json"
    path.parent.mkdir()
    path.write_text(json.dumps(manifest))
    [problem] = persisted_check.check(clients, schema)
    assert problem.startswith(str(path)) and message in problem


def test_a_file_outside_the_layout_is_reported(clients, schema):
    (clients / "loose.json").write_text("{}")
    (clients / "ios").mkdir()
    (clients / "ios" / "notes.txt").write_text("")
    problems = persisted_check.check(clients, schema)
    assert len(problems) == 2
    assert all("<client>/<app-version>.json" in p for p in problems)
