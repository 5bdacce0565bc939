"""tools/schema_check.py: schema.graphql is the schema the code builds, and a commit does not
break clients against the previous commit's (the check `make lint` runs)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gateway.schema_file import SCHEMA_FILE, schema_sdl
from tools.schema_check import check, report

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


def commit(repo: Path, schema: str) -> None:
    (repo / "schema.graphql").write_text(schema)
    git(repo, "add", "schema.graphql")
    git(repo, "commit", "-q", "-m", "schema")


def test_the_committed_schema_is_what_the_gateway_builds():
    assert SCHEMA_FILE.read_text() == schema_sdl(), "run `make schema`"


def test_a_removed_field_is_refused_as_breaking(repo, capsys):
    commit(repo, V1)
    without_title = V1.replace("  title: String!\n", "")
    commit(repo, without_title)
    verdict = check(repo, without_title)
    assert len(verdict.errors) == 1
    assert verdict.errors[0].startswith("breaking change against ")
    assert verdict.errors[0].endswith("(FIELD_REMOVED): Field Ticket.title was removed.")
    assert report(verdict) == 1
    assert "Ticket.title was removed" in capsys.readouterr().err


def test_a_new_field_passes_and_a_new_enum_value_is_a_warning(repo, capsys):
    commit(repo, V1)
    added = V1.replace("  title: String!\n", "  title: String!\n  venue: String\n").replace(
        "  SOLD\n", "  SOLD\n  WITHDRAWN\n"
    )
    commit(repo, added)
    verdict = check(repo, added)
    assert verdict.errors == []
    assert report(verdict) == 0
    out = capsys.readouterr().out
    assert (
        "warning: dangerous change" in out
        and "(VALUE_ADDED_TO_ENUM): Enum value Status.WITHDRAWN was added." in out
    )
    assert "no breaking change against" in out


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
