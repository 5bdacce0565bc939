"""`make help` lists every target of the Makefile, each with its description, so a new target
without a `##` description fails here."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A rule's target names before its `:` (not `:=`); file targets named by a variable
# (`$(STAMP):`) are steps of the named ones, not commands a developer types.
_RULE = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9_.-]*(?:[ \t]+[A-Za-z0-9][A-Za-z0-9_.-]*)*)[ \t]*:(?![:=])"
)
_PHONY = re.compile(r"^\.PHONY[ \t]*:(.*)$")


def makefile_targets(text: str) -> set[str]:
    """Every named target: the rules' and the .PHONY list's."""
    targets: set[str] = set()
    for line in text.splitlines():
        if line.startswith("\t"):
            continue  # a recipe line
        if phony := _PHONY.match(line):
            targets.update(phony.group(1).split("#")[0].split())
        elif rule := _RULE.match(line):
            targets.update(rule.group(1).split())
    return targets


def help_listing(makefile_dir: Path) -> dict[str, str]:
    """`make help`'s lines as target -> description."""
    out = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=makefile_dir,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    listed: dict[str, str] = {}
    for line in out.splitlines():
        name, _, description = line.strip().partition(" ")
        listed[name] = description.strip()
    return listed


def undescribed(makefile_dir: Path) -> set[str]:
    targets = makefile_targets((makefile_dir / "Makefile").read_text())
    listed = help_listing(makefile_dir)
    return {t for t in targets if not listed.get(t)}


def test_make_help_lists_every_target_with_a_description() -> None:
    targets = makefile_targets((ROOT / "Makefile").read_text())
    assert {"all", "help", "install", "lint", "test", "test-unit", "clean"} <= targets
    assert undescribed(ROOT) == set()


def test_a_target_without_a_description_is_caught(tmp_path: Path) -> None:
    # The check itself can fail: the same Makefile with one more target and no `##`.
    text = (ROOT / "Makefile").read_text()
    (tmp_path / "Makefile").write_text(text + "\nnew-target: install\n\techo new\n")
    assert undescribed(tmp_path) == {"new-target"}
