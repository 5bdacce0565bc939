"""`python -m tools.schema_check` (part of `make lint`): schema.graphql is the GraphQL contract.

Fails when the committed schema.graphql is not the schema the gateway builds (run `make schema`),
or when the schema breaks clients against the previous commit's schema.graphql (graphql-core's
find_breaking_changes: a type, field or enum value removed, an argument made required, a type
changed...). Dangerous changes (an enum value or optional argument added, a default changed)
are printed as warnings. Like tools/buf-breaking.sh, the comparison is skipped only when there is
nothing to compare with: no previous commit (first commit, shallow clone) or no schema.graphql in
it.
"""

from __future__ import annotations

import difflib
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from graphql import build_schema, find_breaking_changes, find_dangerous_changes

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = "schema.graphql"
PREVIOUS = "HEAD~1"


@dataclass
class Verdict:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def stale(committed: str | None, built: str) -> list[str]:
    """The committed file against what the code builds."""
    if committed is None:
        return [f"{SCHEMA_FILE} is missing: run `make schema` and commit it"]
    if committed == built:
        return []
    diff = difflib.unified_diff(
        committed.splitlines(),
        built.splitlines(),
        f"{SCHEMA_FILE} (committed)",
        f"{SCHEMA_FILE} (built by gateway/schema.py)",
        lineterm="",
        n=1,
    )
    return [
        f"{SCHEMA_FILE} differs from the schema the code builds: run `make schema` and commit it\n"
        + "\n".join(list(diff)[:60])
    ]


def compatibility(previous: str, built: str, against: str) -> Verdict:
    verdict = Verdict()
    old, new = build_schema(previous), build_schema(built)
    for change in find_breaking_changes(old, new):
        verdict.errors.append(
            f"breaking change against {against} ({change.type.name}): {change.description}"
        )
    for change in find_dangerous_changes(old, new):
        verdict.warnings.append(
            f"dangerous change against {against} ({change.type.name}): {change.description}"
        )
    return verdict


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )


def previous_schema(root: Path) -> tuple[str | None, str]:
    """The previous commit's schema.graphql, and its name; None and why there is none."""
    found = _git(root, "rev-parse", "--verify", "--quiet", "--short", f"{PREVIOUS}^{{commit}}")
    if found.returncode != 0:
        return None, "no previous commit to compare with"
    commit = found.stdout.strip()
    shown = _git(root, "show", f"{PREVIOUS}:{SCHEMA_FILE}")
    if shown.returncode != 0:
        return None, f"the previous commit {commit} has no {SCHEMA_FILE}"
    return shown.stdout, commit


def check(root: Path, built: str) -> Verdict:
    path = root / SCHEMA_FILE
    verdict = Verdict(errors=stale(path.read_text() if path.exists() else None, built))
    previous, against = previous_schema(root)
    if previous is None:
        verdict.notes.append(f"schema breaking check: skipped ({against})")
        return verdict
    compared = compatibility(previous, built, against)
    verdict.errors += compared.errors
    verdict.warnings += compared.warnings
    if not compared.errors:
        verdict.notes.append(f"schema breaking check: no breaking change against {against}")
    return verdict


def report(verdict: Verdict) -> int:
    for note in verdict.notes:
        print(note)
    for warning in verdict.warnings:
        print(f"warning: {warning}")
    for error in verdict.errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if verdict.errors else 0


def main() -> int:
    from gateway.schema_file import schema_sdl  # needs the generated stubs on the path

    return report(check(ROOT, schema_sdl()))


if __name__ == "__main__":
    sys.exit(main())
