"""The tools the checks run: kubectl kustomize, and the Kubernetes versions to validate against."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tools.deploy_check.model import K8S_MIN_VERSION, CheckError

# ---------------------------------------------------------------- tools


def _tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise CheckError(f"{name} is not installed (make install puts it in .venv/bin)")
    return found


def _run(argv: list[str], cwd: Path) -> str:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise CheckError(f"`{' '.join(argv)}` failed:\n{result.stderr.strip()}")
    return result.stdout


def render_overlay(root: Path, overlay: str) -> list[dict[str, Any]]:
    path = root / "k8s" / "overlays" / overlay if "/" not in overlay else root / overlay
    out = _run([_tool("kubectl"), "kustomize", str(path)], root)
    return [doc for doc in yaml.safe_load_all(out) if doc]


def k8s_versions() -> tuple[str, ...]:
    from kubernetes_validate import utils

    return (K8S_MIN_VERSION, utils.latest_version())
