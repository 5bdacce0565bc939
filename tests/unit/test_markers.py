"""`pytest -m <layer>` selects exactly the tests of that folder under tests/ (tests/conftest.py
marks each test by its folder), and every layer selects some: a marker that sits where pytest does
not read it (a conftest's `pytestmark`) selects nothing, and fails here. One collection of the
whole tree (about 10 s) reports each test's markers (tests/support/collected_markers.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LAYERS

ROOT = Path(__file__).resolve().parents[2]
# tests/chaos holds `make chaos`, no tests: the chaos marker is its short run's, in tests/e2e.
WHERE = {layer: f"tests/{layer}/" for layer in LAYERS} | {"chaos": "tests/e2e/test_chaos.py"}


def collect(tmp: Path, *args: str) -> dict[str, set[str]]:
    """Node id -> marker names of what `pytest --collect-only <args>` selects."""
    report = tmp / "markers.tsv"
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [*command, "-p", "tests.support.collected_markers", *args],
        cwd=ROOT,
        env={**os.environ, "COLLECTED_MARKERS_FILE": str(report)},
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode in (0, 5), done.stdout + done.stderr  # 5: nothing selected
    rows = [line.split("\t") for line in report.read_text().splitlines() if line]
    return {node: set(markers) for node, *markers in rows}


@pytest.fixture(scope="module")
def every_test(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    return collect(tmp_path_factory.mktemp("collect"), "tests")


@pytest.mark.parametrize("marker", LAYERS)
def test_a_layers_marker_selects_its_folder_and_nothing_else(marker: str, every_test) -> None:
    selected = {node for node, markers in every_test.items() if marker in markers}
    assert selected, f"`pytest -m {marker}` selects nothing"
    expected = {node for node in every_test if node.startswith(WHERE[marker])}
    assert selected == expected, (
        f"`pytest -m {marker}` outside {WHERE[marker]}: {sorted(selected - expected)[:5]}; "
        f"missed: {sorted(expected - selected)[:5]}"
    )


def test_every_test_belongs_to_a_layer(every_test) -> None:
    """A folder of tests that no marker selects would be left out of `make test-<layer>`."""
    layers = tuple(f"tests/{layer}/" for layer in LAYERS)
    assert every_test
    unmarked = [node for node in every_test if not node.startswith(layers)]
    assert not unmarked, unmarked[:5]


def test_minus_m_browser_selects_the_browser_tests(tmp_path: Path) -> None:
    """What a developer types, through pytest's own `-m` (the marker once sat in a conftest)."""
    selected = collect(tmp_path, "-m", "browser", "tests/browser")
    assert selected and all(node.startswith("tests/browser/") for node in selected)
