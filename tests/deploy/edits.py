"""Breaking a copy of the shipping files, and reading what the checks say about it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tools import deploy_check as dc

PROCESSES = dc.load_processes()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def k8s_report(
    root: Path, processes: Sequence[dc.Process] = PROCESSES, overlays: Sequence[str] = ("dev",)
) -> str:
    return "\n".join(dc.check_kubernetes(root, processes, overlays=overlays))
