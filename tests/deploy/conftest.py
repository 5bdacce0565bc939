"""Copies of the shipping files that a test may break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools import deploy_check as dc


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    shutil.copytree(dc.ROOT / "k8s", tmp_path / "k8s")
    shutil.copytree(dc.ROOT / "deploy", tmp_path / "deploy")
    for name in (
        "Dockerfile",
        ".dockerignore",
        "docker-compose.yml",
        "requirements.lock",
        "requirements-insights.lock",
        "requirements-dev.lock",
        "pyproject.toml",
    ):
        shutil.copy(dc.ROOT / name, tmp_path / name)
    return tmp_path
