"""A pytest plugin (`-p tests.support.collected_markers`): at the end of collection, writes each
test's node id and the names of its markers, one test a line, to the file named by
COLLECTED_MARKERS_FILE. tests/unit/test_markers.py reads it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    lines = (
        "\t".join([item.nodeid, *sorted({m.name for m in item.iter_markers()})])
        for item in session.items
    )
    Path(os.environ["COLLECTED_MARKERS_FILE"]).write_text("\n".join(lines) + "\n")
