"""tools/schema_check.py (`make lint`): schema.graphql is the schema the code builds, and it
evolves as docs/api.md EVO-5 says: a breaking change only for what the latest `v*` tag deprecated
(before any tag, only if CHANGELOG.md lists it under **Breaking**), every changed coordinate in
CHANGELOG.md's Unreleased API section, every deprecation with a reason."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tools.schema_check import api_section, check, report

V1 = """type Query {
  ticket(id: ID!): Ticket
}

type Ticket {
  id: ID!
  title: String!
  status: Status!
}

enum Status {
  OPEN
  SOLD
}
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "dev@example.com")
    git(tmp_path, "config", "user.name", "dev")
    return tmp_path


def commit(repo: Path, schema: str, changelog: str | None = None) -> None:
    (repo / "schema.graphql").write_text(schema)
    git(repo, "add", "schema.graphql")
    if changelog is not None:
        (repo / "CHANGELOG.md").write_text(changelog)
        git(repo, "add", "CHANGELOG.md")
    git(repo, "commit", "-q", "-m", "schema")


def changelog(*items: str, released: str = "") -> str:
    """A CHANGELOG.md whose Unreleased API section has these items."""
    lines = "\n".join(items)
    other = "### Other\n\n- `Ticket.other`\n"
    return f"# Changelog\n\n## Unreleased\n\n### API\n\n{lines}\n\n{other}{released}"


def test_a_removed_field_is_refused_as_breaking(repo, capsys):
    commit(repo, V1)
    without_title = V1.replace("  title: String!\n", "")
    commit(repo, without_title, changelog("- **Removed** `Ticket.title`: read `name`."))
    verdict = check(repo, without_title)
    assert len(verdict.errors) == 1
    assert verdict.errors[0].startswith("breaking change against ")
    assert (
        "(FIELD_REMOVED): Field Ticket.title was removed. No v* tag yet: list"
        in (verdict.errors[0])
    )
    assert report(verdict) == 1
    assert "Ticket.title was removed" in capsys.readouterr().err


def test_a_new_field_passes_and_a_new_enum_value_is_a_warning(repo, capsys):
    commit(repo, V1)
    added = V1.replace("  title: String!\n", "  title: String!\n  venue: String\n").replace(
        "  SOLD\n", "  SOLD\n  WITHDRAWN\n"
    )
    commit(repo, added, changelog("- **Added** `Ticket.venue`, `Status.WITHDRAWN`."))
    verdict = check(repo, added)
    assert verdict.errors == []
    assert report(verdict) == 0
    out = capsys.readouterr().out
    assert (
        "warning: dangerous change" in out
        and "(VALUE_ADDED_TO_ENUM): Enum value Status.WITHDRAWN was added." in out
    )
    assert "no unlisted or undeprecated change against" in out


def test_a_stale_file_is_reported_with_the_command_that_fixes_it(repo, capsys):
    commit(repo, V1)
    built = V1.replace("  title: String!\n", "  title: String!\n  venue: String\n")
    verdict = check(repo, built)  # the code has the new field; the file was not regenerated
    assert len(verdict.errors) == 1
    assert "differs from the schema the code builds: run `make schema`" in verdict.errors[0]
    assert "+  venue: String" in verdict.errors[0]
    assert report(verdict) == 1


def test_without_a_previous_schema_the_breaking_check_is_skipped_and_says_so(repo, capsys):
    commit(repo, V1)
    verdict = check(repo, V1)
    assert verdict.errors == []
    assert verdict.notes == ["schema breaking check: skipped (no previous commit to compare with)"]
    (repo / "README").write_text("x")
    git(repo, "rm", "-q", "schema.graphql")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "no schema")
    commit(repo, V1)
    verdict = check(repo, V1)
    assert verdict.errors == []
    assert verdict.notes[0].startswith("schema breaking check: skipped (the previous commit ")
    assert verdict.notes[0].endswith("has no schema.graphql)")


# --- EVO-5 --------------------------------------------------------------------------------------

WITHOUT_TITLE = V1.replace("  title: String!\n", "")


def test_before_any_tag_a_break_passes_only_listed_under_breaking(repo):
    commit(repo, V1)
    commit(repo, WITHOUT_TITLE, changelog("- **Breaking** `Ticket.title` removed: read `name`."))
    assert check(repo, WITHOUT_TITLE).errors == []


def test_a_break_named_only_as_a_change_is_refused(repo):
    commit(repo, V1)
    commit(repo, WITHOUT_TITLE, changelog("- **Changed** `Ticket.title` is gone."))
    [error] = check(repo, WITHOUT_TITLE).errors
    assert "(FIELD_REMOVED)" in error and "under **Breaking**" in error


def test_after_a_tag_a_break_passes_only_if_the_tag_deprecated_it(repo):
    deprecated = V1.replace(
        "  title: String!\n", '  title: String! @deprecated(reason: "Use `name`.")\n'
    )
    commit(repo, V1)
    commit(repo, deprecated, changelog("- **Deprecated** `Ticket.title`: read `name`."))
    git(repo, "tag", "v1.0.0")
    commit(repo, WITHOUT_TITLE, changelog("- **Breaking** `Ticket.title` removed."))
    assert check(repo, WITHOUT_TITLE).errors == []
    # Removing what the tag did not deprecate is refused, whatever the changelog says.
    without_status = WITHOUT_TITLE.replace("  status: Status!\n", "")
    commit(repo, without_status, changelog("- **Breaking** `Ticket.status` removed."))
    [error] = check(repo, without_status).errors
    assert "Field Ticket.status was removed." in error
    assert "`Ticket.status` was not @deprecated in v1.0.0" in error


def test_after_a_tag_a_type_goes_once_every_use_of_it_was_deprecated(repo):
    commit(repo, V1)
    deprecated = V1.replace("  status: Status!\n", '  status: Status! @deprecated(reason: "x")\n')
    commit(repo, deprecated, changelog("- **Deprecated** `Ticket.status`."))
    git(repo, "tag", "v1.1.0")
    gone = V1.replace("  status: Status!\n", "").split("enum Status")[0]
    commit(repo, gone, changelog("- **Breaking** `Ticket.status`, `Status` removed."))
    assert check(repo, gone).errors == []
    kept = deprecated.replace("  id: ID!\n", "")  # Ticket.id was never deprecated
    commit(repo, kept, changelog("- **Breaking** `Ticket.id` removed."))
    assert "`Ticket.id` was not @deprecated in v1.1.0" in check(repo, kept).errors[0]


def test_every_changed_coordinate_is_named_in_the_unreleased_api_section(repo):
    commit(repo, V1)
    changed = (
        V1.replace("ticket(id: ID!): Ticket", "ticket(id: ID!, since: Int): Ticket")
        .replace("  title: String!\n", "  title: String!\n  venue: String\n")
        .replace("type Query", "type Venue {\n  name: String!\n}\n\ntype Query")
    )
    commit(repo, changed, changelog("- **Added** `Ticket.venue`."))
    [error] = check(repo, changed).errors
    assert error.startswith("schema coordinates changed against ")
    assert error.endswith(": `Query.ticket(since:)`, `Venue`")
    # Named in another section, or in a released one: still missing.
    elsewhere = changelog(
        "- **Added** `Ticket.venue`.", released="\n## v0.9.0\n\n### API\n\n- `Venue`\n"
    )
    (repo / "CHANGELOG.md").write_text(elsewhere.replace("`Ticket.other`", "`Query.ticket`"))
    assert check(repo, changed).errors[0].endswith(": `Query.ticket(since:)`, `Venue`")
    # A parent names its children; the type's annotation after the coordinate is allowed.
    listed = changelog(
        "- **Added** `Ticket.venue: String`, the `Venue` type,",
        "  and `Query.ticket(since: Int)`: the tickets changed since then.",
    )
    (repo / "CHANGELOG.md").write_text(listed)
    assert check(repo, changed).errors == []


def test_a_root_type_does_not_name_its_fields():
    section = api_section(changelog("- **Added** to `Query`: `Ticket.venue`."))
    assert section.lists("Ticket.venue") and section.lists("Ticket.venue(unit:)")
    assert section.lists("Query") and not section.lists("Query.tickets")
    assert not section.lists("Ticket.venue", breaking=True)


def test_a_deprecation_without_a_reason_is_refused(repo):
    commit(repo, V1)
    for bare in ("@deprecated", '@deprecated(reason: "")', '@deprecated(reason: "  ")'):
        schema = V1.replace("  title: String!\n", f"  title: String! {bare}\n")
        commit(repo, schema, changelog("- **Deprecated** `Ticket.title`: read `name`."))
        [error] = check(repo, schema).errors
        assert error == "schema.graphql line 7: @deprecated needs a reason"
    reasoned = V1.replace(
        "  title: String!\n", '  title: String! @deprecated(reason: "Use `name`.")\n'
    )
    commit(repo, reasoned, changelog("- **Deprecated** `Ticket.title`: read `name`."))
    assert check(repo, reasoned).errors == []
