"""Paths as a user types them in a shell: for the commands the CLI and the dev stack print."""

from __future__ import annotations

import os
from pathlib import Path


def as_typed(path: str | Path) -> str:
    """`path` as one types it from the current directory: relative when it is under it (from the
    repository root, `.venv/bin/grpcurl`), else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)
