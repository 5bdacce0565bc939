"""`make lint`'s import cycle check (tools/import_cycles.py): it fails on a cycle, names the
modules and lines on it, passes on a package without one, and the project has none."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

from tools.import_cycles import PROJECT_PACKAGES, ROOT, find_cycles, main


def _package(root: Path, files: dict[str, str]) -> str:
    """A package under `root` with a fresh name (grimp finds packages through sys.path, and a
    name once imported elsewhere must not stand in for this one); `files` by path within it."""
    name = f"cyc_{uuid.uuid4().hex[:8]}"
    for relative, source in {"__init__.py": "", **files}.items():
        path = root / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).replace("PKG", name))
    return name


def test_a_cycle_through_three_modules_fails_naming_them_and_the_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = _package(
        tmp_path,
        {
            "a.py": "from PKG import b\n",
            "b.py": "import os\n\nfrom PKG.sub import c\n",
            "sub/__init__.py": "",
            "sub/c.py": "def later():\n    from PKG import a  # a lazy import is still a cycle\n",
            "d.py": "from PKG import a\n",
        },
    )

    assert main(["--root", str(tmp_path), name]) == 1

    err = capsys.readouterr().err
    assert f"import cycle: {name}.a -> {name}.b -> {name}.sub.c -> {name}.a" in err
    assert f"{name}.b imports {name}.sub.c (line 3)" in err
    assert f"{name}.sub.c imports {name}.a (line 2)" in err
    assert f"{name}.d" not in err  # it imports the cycle, but is not on it
    assert "1 import cycle(s)" in err


def test_each_separate_cycle_is_reported(tmp_path: Path) -> None:
    name = _package(
        tmp_path,
        {
            "a.py": "from PKG import b\n",
            "b.py": "from PKG import a\n",
            "x.py": "import PKG.y\n",
            "y.py": "import PKG.x\n",
        },
    )

    cycles = find_cycles([name], tmp_path)

    assert [message.splitlines()[0] for message in cycles] == [
        f"import cycle: {name}.a -> {name}.b -> {name}.a",
        f"import cycle: {name}.x -> {name}.y -> {name}.x",
    ]


def test_imports_under_type_checking_and_one_way_imports_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = _package(
        tmp_path,
        {
            "app.py": "from PKG import transport\n",
            "transport.py": """\
                from typing import TYPE_CHECKING

                from PKG import shared

                if TYPE_CHECKING:
                    from PKG.app import App
                """,
            "shared.py": "import json\n",
        },
    )

    assert main(["--root", str(tmp_path), name]) == 0
    assert capsys.readouterr().err == ""


def test_the_project_has_no_import_cycle() -> None:
    assert find_cycles(PROJECT_PACKAGES, ROOT) == []


def test_every_package_of_the_project_is_checked() -> None:
    """A new top-level package is checked too."""
    packages = {init.parent.name for init in ROOT.glob("*/__init__.py")}
    assert packages == set(PROJECT_PACKAGES)
