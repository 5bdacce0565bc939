"""`make docs` fails on what would mislead a reader: each break below, made in a copy of the
repository's docs, fails `mkdocs build --strict` as `make docs` runs it, naming what broke; the
copy as it is builds, with README.md as the site's home and its links made the site's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("docs", "mkdocs.yml", "README.md", "tools")


def docs_copy(tmp_path: Path) -> Path:
    """The repository in `tmp_path`: what the site is built from copied (to be broken), the
    rest linked (the source files pages name must exist)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for entry in ROOT.iterdir():
        if entry.name in ("site", ".git"):
            continue
        if entry.name in COPIED:
            if entry.is_dir():
                shutil.copytree(
                    entry, repo / entry.name, ignore=shutil.ignore_patterns("__pycache__")
                )
            else:
                shutil.copy2(entry, repo / entry.name)
        else:
            (repo / entry.name).symlink_to(entry)
    return repo


def build(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(repo / "mkdocs.yml")],
        cwd=repo,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_docs_as_they_are_build_with_the_readme_as_home(tmp_path: Path) -> None:
    repo = docs_copy(tmp_path)
    built = build(repo)
    assert built.returncode == 0, built.stderr
    home = (repo / "site" / "index.html").read_text()
    assert 'href="getting-started.html"' in home  # README's docs/getting-started.md
    assert 'src="web-app.png"' in home  # README's docs/web-app.png
    contributing = (repo / "site" / "contributing.html").read_text()
    assert "The four rooms of a service" in contributing  # the root file, not a copy
    assert 'href="changelog.html"' in contributing  # its CHANGELOG.md
    assert "The front page is" not in (repo / "site" / "index.html").read_text()


BREAKS = {
    "a link to a page that does not exist": (
        "docs/architecture.md",
        "[the purchase flow](#the-purchase-flow)",
        "[the purchase flow](purchase-flow.md)",
        r"purchase-flow\.md",
    ),
    "a link to an anchor that does not exist": (
        "docs/architecture.md",
        "[how it is built](#how-it-is-built)",
        "[how it is built](#how-it-was-built)",
        r"#how-it-was-built",
    ),
    "a link to another page's missing anchor": (
        "docs/security.md",
        "(limits.md#the-client-address)",
        "(limits.md#the-clients-address)",
        r"limits\.md#the-clients-address",
    ),
    "a README link to a page that does not exist": (
        "README.md",
        "(docs/fault-model.md)",
        "(docs/faults.md)",
        r"faults\.md",
    ),
    "a link to a repository file that does not exist": (
        "docs/using-the-api.md",
        "(../schema.graphql)",
        "(../schema.gql)",
        r"schema\.gql",
    ),
    "a nav entry to a file that does not exist": (
        "mkdocs.yml",
        "Fault model: fault-model.md",
        "Fault model: faults.md",
        r"faults\.md",
    ),
    "a page out of the nav": (
        "mkdocs.yml",
        "      - Fault model: fault-model.md\n",
        "",
        r"fault-model\.md",
    ),
    "a script from another host": (
        "mkdocs.yml",
        "hooks:\n",
        "extra_javascript:\n  - https://unpkg.com/mermaid@11/dist/mermaid.min.js\nhooks:\n",
        r"unpkg\.com",
    ),
    "web fonts from Google": (
        "mkdocs.yml",
        "  font: false\n",
        "  font:\n    text: Roboto\n",
        r"fonts\.googleapis\.com",
    ),
}


@pytest.mark.parametrize("what", BREAKS)
def test_a_break_fails_the_build_naming_it(tmp_path: Path, what: str) -> None:
    path, old, new, named = BREAKS[what]
    repo = docs_copy(tmp_path)
    edit(repo / path, old, new)
    built = build(repo)
    assert built.returncode != 0, f"{what}: the build passed\n{built.stderr}"
    assert re.search(named, built.stderr), built.stderr
