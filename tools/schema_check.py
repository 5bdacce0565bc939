"""`python -m tools.schema_check` (part of `make lint`): schema.graphql is the GraphQL contract,
and it evolves as docs/api.md §10 (EVO-5) says.

- The committed schema.graphql is the schema the gateway builds (run `make schema`).
- A change against the previous commit's schema.graphql that breaks clients (graphql-core's
  find_breaking_changes: a type, field, argument or enum value removed, an argument made
  required, a type changed...) passes only if what it breaks was `@deprecated` in the schema of
  the latest `v*` tag (a type's removal: every field, argument and input field of that type was);
  before any `v*` tag exists, only if CHANGELOG.md lists it under **Breaking** (that is how the
  v1 migration passes, once). Dangerous changes (an enum value or optional argument added, a
  default changed) are printed as warnings.
- Every schema coordinate added, removed or changed against the previous commit is named in
  CHANGELOG.md's `## Unreleased` -> `### API` section. Coordinates are GraphQL's: `Ticket` (a
  type), `Ticket.state` (a field, an input field or an enum value), `Query.tickets(last:)` (an
  argument), `@cost` and `@cost(weight:)` (a directive). A field changes when its type, its
  arguments' types or defaults, or its deprecation change (not its description or cost).
- Every `@deprecated` has a non-empty reason.

**The CHANGELOG matching rule.** The section is `## Unreleased`'s `### API`, up to the next `##`
or `###` heading. Each list item (a line starting `- `, with its indented continuation lines)
names the coordinates it writes in backticks: a backticked span names the coordinate it starts
with, so `` `Ticket.state: TicketState` `` names `Ticket.state` and
`` `Query.tickets(last: Int)` `` names `Query.tickets`. A coordinate is listed when the section
names it or one of its parents: `Ticket.state` covers `Ticket.state(since:)`, and `Ticket`
covers all of Ticket's fields, except that the root types `Query`, `Mutation` and `Subscription`
cover nothing (name `Query.tickets`). A coordinate is listed under **Breaking** when an item
whose first bold word is `**Breaking**` names it or a parent that way.

The comparison is skipped only when there is nothing to compare with: no previous commit (first
commit, shallow clone) or no schema.graphql in it, as tools/buf-breaking.sh does.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from graphql import (
    BreakingChange,
    BreakingChangeType,
    DirectiveNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    get_named_type,
    is_specified_directive,
    is_specified_scalar_type,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = "schema.graphql"
CHANGELOG_FILE = "CHANGELOG.md"
PREVIOUS = "HEAD~1"
ROOT_TYPES = ("Query", "Mutation", "Subscription")


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


# --- schema coordinates -------------------------------------------------------------------------


def _default(node: object) -> str:
    value = getattr(node, "default_value", None)
    return print_ast(value) if value is not None else ""


def _deprecation(element: object) -> str:
    reason = getattr(element, "deprecation_reason", None)
    return f" @deprecated({reason})" if reason is not None else ""


def coordinates(schema: GraphQLSchema) -> dict[str, str]:
    """Every schema coordinate of a schema built from SDL, with what a client sees of it."""
    found: dict[str, str] = {}
    for name, named in schema.type_map.items():
        if name.startswith("__") or is_specified_scalar_type(named):
            continue  # GraphQL's own
        kind = type(named).__name__
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            kind += " implements " + ",".join(sorted(i.name for i in named.interfaces))
        if isinstance(named, GraphQLUnionType):
            kind += " = " + "|".join(sorted(t.name for t in named.types))
        found[name] = kind
        for field_name, member in (getattr(named, "fields", None) or {}).items():
            default = _default(member.ast_node) if isinstance(named, GraphQLInputObjectType) else ""
            found[f"{name}.{field_name}"] = f"{member.type}={default}{_deprecation(member)}"
            for arg_name, arg in (getattr(member, "args", None) or {}).items():
                found[f"{name}.{field_name}({arg_name}:)"] = (
                    f"{arg.type}={_default(arg.ast_node)}{_deprecation(arg)}"
                )
        if isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                found[f"{name}.{value_name}"] = _deprecation(value)
    for directive in schema.directives:
        if is_specified_directive(directive):
            continue
        found[f"@{directive.name}"] = ",".join(sorted(loc.name for loc in directive.locations)) + (
            " repeatable" if directive.is_repeatable else ""
        )
        for arg_name, arg in directive.args.items():
            found[f"@{directive.name}({arg_name}:)"] = f"{arg.type}={_default(arg.ast_node)}"
    return found


def changed_coordinates(old: GraphQLSchema, new: GraphQLSchema) -> list[str]:
    """The coordinates added, removed or changed, in order."""
    before, after = coordinates(old), coordinates(new)
    return sorted(c for c in before.keys() | after.keys() if before.get(c) != after.get(c))


def parents(coordinate: str) -> list[str]:
    """The coordinate and those that contain it, the root types left out."""
    found = [coordinate]
    if "(" in coordinate:
        found.append(coordinate.split("(", 1)[0])
    if "." in found[-1]:
        found.append(found[-1].split(".", 1)[0])
    return [c for c in found if c not in ROOT_TYPES or c == coordinate]


_COORDINATE = re.compile(r"@?[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?(?:\([A-Za-z_]\w*:\))?")
_ARGUMENT = re.compile(r"@?[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?\([A-Za-z_]\w*:\)")
_MEMBER = re.compile(r"\b[A-Za-z_]\w*\.[A-Za-z_]\w*\b")


def breaking_coordinate(change: BreakingChange) -> str | None:
    """The coordinate a breaking change is about, from graphql-core's description."""
    description = change.description
    if found := _ARGUMENT.search(description):
        return found.group(0)
    if found := _MEMBER.search(description):
        return found.group(0)
    if change.type is BreakingChangeType.TYPE_REMOVED_FROM_UNION:
        return description.rstrip(".").rsplit(" ", 1)[-1]
    if directive := re.search(r"@\w+", description):
        return directive.group(0)
    words = description.split()
    return words[0] if words else None


# --- CHANGELOG.md --------------------------------------------------------------------------------


@dataclass
class ApiSection:
    """What `## Unreleased` -> `### API` names: every coordinate, and those under **Breaking**."""

    named: set[str] = field(default_factory=set)
    breaking: set[str] = field(default_factory=set)
    found: bool = False

    def lists(self, coordinate: str, *, breaking: bool = False) -> bool:
        names = self.breaking if breaking else self.named
        return any(c in names for c in parents(coordinate))


def api_section(changelog: str) -> ApiSection:
    section = ApiSection()
    unreleased = api = False
    items: list[list[str]] = []
    for line in changelog.splitlines():
        if line.startswith("## "):
            unreleased, api = line[3:].strip().lower() == "unreleased", False
            continue
        if line.startswith("### "):
            api = unreleased and line[4:].strip().lower() == "api"
            section.found = section.found or api
            continue
        if not api:
            continue
        if line.startswith("- "):
            items.append([line])
        elif items and (line.startswith((" ", "\t")) and line.strip()):
            items[-1].append(line)
    for item in items:
        text = " ".join(part.strip() for part in item)
        named = {
            m.group(0)
            for span in re.findall(r"`([^`]+)`", text)
            if (m := _COORDINATE.match(span.strip()))
        }
        section.named |= named
        kind = re.search(r"\*\*(\w+)\*\*", text)
        if kind and kind.group(1) == "Breaking":
            section.breaking |= named
    return section


# --- the checks ----------------------------------------------------------------------------------


def deprecations_without_reason(sdl: str) -> list[str]:
    """`@deprecated` with no reason, or an empty one (the default reason says nothing)."""
    found: list[str] = []

    class Deprecations(Visitor):
        def enter_directive(self, node: DirectiveNode, *_args: object) -> None:
            if node.name.value != "deprecated":
                return
            arguments = node.arguments or ()
            reason = next((a.value for a in arguments if a.name.value == "reason"), None)
            text = getattr(reason, "value", None)
            if not isinstance(text, str) or not text.strip():
                line = node.loc.source.get_location(node.loc.start).line if node.loc else "?"
                found.append(f"{SCHEMA_FILE} line {line}: @deprecated needs a reason")

    visit(parse(sdl), Deprecations())
    return found


def _deprecated_in(tag_schema: GraphQLSchema, coordinate: str) -> bool:
    """Whether the tag's schema deprecated the coordinate (a type: everything of that type)."""
    info = coordinates(tag_schema)
    if coordinate in info:
        if "." in coordinate or "(" in coordinate:
            return "@deprecated(" in info[coordinate]
        uses = [
            c
            for c, element in _typed_elements(tag_schema)
            if get_named_type(element.type).name == coordinate
        ]
        return bool(uses) and all("@deprecated(" in info[c] for c in uses)
    return False


def _typed_elements(schema: GraphQLSchema):
    for name, named in schema.type_map.items():
        if name.startswith("__"):
            continue
        for field_name, element in (getattr(named, "fields", None) or {}).items():
            yield f"{name}.{field_name}", element
            for arg_name, arg in (getattr(element, "args", None) or {}).items():
                yield f"{name}.{field_name}({arg_name}:)", arg


def compatibility(
    previous: str,
    built: str,
    against: str,
    changelog: str = "",
    tag: tuple[str, str] | None = None,
) -> Verdict:
    """The built schema against the previous one: breaking changes allowed by a deprecation in
    `tag` (its name and schema) or, without a tag, by the changelog's **Breaking** items; every
    changed coordinate in the changelog."""
    verdict = Verdict()
    old, new = build_schema(previous), build_schema(built)
    section = api_section(changelog)
    tag_schema = build_schema(tag[1]) if tag else None
    for change in find_breaking_changes(old, new):
        coordinate = breaking_coordinate(change)
        where = f"breaking change against {against} ({change.type.name}): {change.description}"
        if tag_schema is not None:
            if coordinate is None or not _deprecated_in(tag_schema, coordinate):
                verdict.errors.append(
                    f"{where} `{coordinate}` was not @deprecated in {tag[0]}"  # type: ignore[index]
                    " (EVO-2: deprecate it in a release first)"
                )
        elif coordinate is None or not section.lists(coordinate, breaking=True):
            verdict.errors.append(
                f"{where} No v* tag yet: list `{coordinate}` under **Breaking** in "
                f"{CHANGELOG_FILE}'s Unreleased API section"
            )
    for change in find_dangerous_changes(old, new):
        verdict.warnings.append(
            f"dangerous change against {against} ({change.type.name}): {change.description}"
        )
    unlisted = [c for c in changed_coordinates(old, new) if not section.lists(c)]
    # Naming a type covers its members: say the type alone when it is unlisted too.
    missing = [c for c in unlisted if not any(p in unlisted for p in parents(c)[1:])]
    if missing:
        verdict.errors.append(
            f"schema coordinates changed against {against} but not named in {CHANGELOG_FILE}'s "
            "`## Unreleased` -> `### API` section (name each in backticks, or its type): "
            + ", ".join(f"`{c}`" for c in missing)
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


def latest_tag(root: Path) -> tuple[str, str] | None:
    """The latest `v*` tag reachable from HEAD and its schema.graphql, or None."""
    found = _git(root, "describe", "--tags", "--abbrev=0", "--match", "v*", "HEAD")
    if found.returncode != 0:
        return None
    tag = found.stdout.strip()
    shown = _git(root, "show", f"{tag}:{SCHEMA_FILE}")
    return (tag, shown.stdout) if shown.returncode == 0 else (tag, "type Query { _: Int }")


def check(root: Path, built: str) -> Verdict:
    path = root / SCHEMA_FILE
    verdict = Verdict(errors=stale(path.read_text() if path.exists() else None, built))
    verdict.errors += deprecations_without_reason(built)
    previous, against = previous_schema(root)
    if previous is None:
        verdict.notes.append(f"schema breaking check: skipped ({against})")
        return verdict
    changelog_path = root / CHANGELOG_FILE
    changelog = changelog_path.read_text() if changelog_path.exists() else ""
    compared = compatibility(previous, built, against, changelog, latest_tag(root))
    verdict.errors += compared.errors
    verdict.warnings += compared.warnings
    if not compared.errors:
        verdict.notes.append(
            f"schema evolution check: no unlisted or undeprecated change against {against}"
        )
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
