"""Static checks of everything that ships the system: the Dockerfile, docker-compose.yml and the
Kubernetes overlays, held against the code's truth -- the processes in `common.processes.SERVICES`
and the settings classes (pydantic-settings) each of them reads.

    python -m tools.deploy_check            # from the repository root; exit 1 on any problem

No Docker engine or cluster is needed: overlays are rendered with `kubectl kustomize`, validated
with kubernetes-validate (strict, schemas shipped in the package, offline) and then read; compose
is read through `docker-compose config`. Each problem is one line naming the file or object and
what is wrong with it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from common.processes import SERVICES
from tools.deploy_check.compose import check_compose
from tools.deploy_check.dockerfile import check_dockerfile
from tools.deploy_check.k8s_egress import check_egress
from tools.deploy_check.k8s_network import check_network_policies
from tools.deploy_check.k8s_objects import Manifests, check_schema, pod_template
from tools.deploy_check.k8s_overlays import (
    check_base_is_namespace_agnostic,
    check_config_maps,
    check_images,
    check_ingress,
    check_kubernetes,
    check_pod_hardening,
    check_secrets_stay_with_owners,
)
from tools.deploy_check.k8s_processes import check_process_k8s
from tools.deploy_check.model import OVERLAYS, ROOT, CheckError, Process, load_processes
from tools.deploy_check.render import k8s_versions, render_overlay

# What the deploy tests and `make lint-deploy` use; each check lives in its own module.
__all__ = [
    "OVERLAYS",
    "ROOT",
    "CheckError",
    "Manifests",
    "Process",
    "check_all",
    "check_base_is_namespace_agnostic",
    "check_compose",
    "check_config_maps",
    "check_dockerfile",
    "check_egress",
    "check_images",
    "check_ingress",
    "check_kubernetes",
    "check_network_policies",
    "check_pod_hardening",
    "check_process_k8s",
    "check_schema",
    "check_secrets_stay_with_owners",
    "k8s_versions",
    "load_processes",
    "main",
    "pod_template",
    "render_overlay",
]


def check_all(root: Path = ROOT) -> list[str]:
    processes = load_processes()
    return [
        *check_dockerfile(root, processes),
        *check_compose(root, processes),
        *check_kubernetes(root, processes),
    ]


def main() -> int:
    started = time.monotonic()
    try:
        problems = check_all(ROOT)
    except CheckError as exc:
        print(f"deploy checks could not run: {exc}", file=sys.stderr)
        return 2
    versions = " and ".join(k8s_versions())
    for problem in problems:
        print(problem, file=sys.stderr)
    summary = (
        f"Dockerfile, docker-compose.yml, k8s/overlays/{{{','.join(OVERLAYS)}}} "
        f"(kubernetes-validate --strict {versions}) against {len(SERVICES)} processes"
    )
    elapsed = time.monotonic() - started
    if problems:
        print(
            f"deploy checks: {len(problems)} problem(s) in {summary} [{elapsed:.1f}s]",
            file=sys.stderr,
        )
        return 1
    print(f"deploy checks: ok -- {summary} [{elapsed:.1f}s]")
    return 0
