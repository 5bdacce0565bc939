"""The throwaway Secrets a check runs with, made by the documentation's own recipe.

docs/deploying.md (Kubernetes, "2. The Secrets") tells an operator which Secrets to create,
with `kubectl create secret generic NAME --from-literal=KEY=VALUE --from-file=KEY=PATH` in its
bash blocks (random
passwords from openssl, an Ed25519 key pair, the datastore URLs). Those blocks run here as
written, in a scratch directory, with a `kubectl` on PATH that records each Secret instead of
creating it (tools/pod_check/kubectl_recorder.py). So the check uses exactly the Secrets, keys
and URLs the page promises, and a page that forgets a key the manifests need fails it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.pod_check.model import PodCheckError, Secrets

# The page of the recipe, from the repository's root.
PAGE = "docs/deploying.md"
SECTION = "## With Kubernetes (kustomize)"
# Where tools.pod_check.kubectl_recorder is imported from (the page may be elsewhere).
CODE_ROOT = Path(__file__).resolve().parents[2]


def recipe(page: str) -> str:
    """The bash blocks of the page's Kubernetes section that create Secrets, in order."""
    start = page.find(f"\n{SECTION}\n")
    if start == -1:
        raise PodCheckError(f"{PAGE} has no '{SECTION}' section to take the Secrets from")
    end = page.find("\n## ", start + len(SECTION) + 2)
    section = page[start : end if end != -1 else None]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    chosen = [b for b in blocks if "create secret generic" in b]
    if not chosen:
        raise PodCheckError(f"{PAGE} '{SECTION}' creates no Secret (`kubectl create secret`)")
    return "\n".join(chosen)


def run_recipe(script: str) -> Secrets:
    """Runs the recipe with a recording `kubectl`; the Secrets it would have created."""
    with tempfile.TemporaryDirectory(prefix="podcheck-secrets-") as scratch:
        tools = Path(scratch, "bin")
        tools.mkdir()
        kubectl = tools / "kubectl"
        kubectl.write_text(
            f'#!/bin/sh\nexec "{sys.executable}" -m tools.pod_check.kubectl_recorder "$@"\n'
        )
        kubectl.chmod(0o755)
        record = Path(scratch, "secrets.jsonl")
        env = {
            **os.environ,
            # `ticketing` (the recipe's `ticketing ticket-keys`) beside this interpreter.
            "PATH": os.pathsep.join(
                (str(tools), str(Path(sys.executable).parent), os.environ.get("PATH", ""))
            ),
            "PYTHONPATH": str(CODE_ROOT),
            "PODCHECK_SECRETS": str(record),
        }
        work = Path(scratch, "work")
        work.mkdir()
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise PodCheckError(
                f"{PAGE}'s Secret recipe (2. The Secrets) failed when run as written:\n"
                + result.stderr.strip()
            )
        data: dict[str, dict[str, bytes]] = {}
        for line in record.read_text().splitlines():
            entry = json.loads(line)
            data[entry["name"]] = {k: v.encode("latin-1") for k, v in entry["data"].items()}
        return Secrets(data)


def documented_secrets(root: Path) -> Secrets:
    """The Secrets the recipe of `root`'s docs/deploying.md creates."""
    return run_recipe(recipe((root / PAGE).read_text()))
