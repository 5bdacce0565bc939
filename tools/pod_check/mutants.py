"""Broken copies of real Deployments, run beside them: the check must fail each, for the reason
given, or it is not checking what it claims (the way tests/deploy breaks copies of manifests).

- the gateway without its /tmp volume: its read-only root filesystem leaves its process no
  writable temporary directory (its workers share metrics through files there);
- tickets with its readiness probe on a port nothing in the pod listens on;
- auth with a memory limit its process cannot start in (it must be seen OOM-killed).

A copy joins no Service (no DNS alias), so nothing sends it traffic meant for the real one.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from tools.pod_check.model import PodCheckError, Workload


def _named(workloads: list[Workload], name: str) -> Workload:
    for workload in workloads:
        if workload.name == name:
            return workload
    raise PodCheckError(f"pod-check's broken copies need Deployment/{name}; the overlay has none")


def _copy(original: Workload, suffix: str, template: dict, expected_failure: str) -> Workload:
    name = f"{original.name}-{suffix}"
    return replace(
        original,
        name=name,
        pod_name=f"{name}-podcheck",
        template=template,
        aliases=(),
        expected_failure=expected_failure,
    )


def without_tmp(original: Workload) -> Workload:
    template = copy.deepcopy(dict(original.template))
    spec = template["spec"]
    dropped = set()
    for container in spec["containers"]:
        mounts = container.get("volumeMounts") or []
        dropped |= {m["name"] for m in mounts if m["mountPath"] == "/tmp"}
        container["volumeMounts"] = [m for m in mounts if m["mountPath"] != "/tmp"]
    if not dropped:
        raise PodCheckError(f"{original.title} mounts nothing at /tmp: no copy to break")
    spec["volumes"] = [v for v in spec.get("volumes") or [] if v["name"] not in dropped]
    return _copy(original, "no-tmp", template, "exited with code")


def readiness_on_wrong_port(original: Workload) -> Workload:
    template = copy.deepcopy(dict(original.template))
    container = template["spec"]["containers"][0]
    probe = container.get("readinessProbe")
    action = next((a for a in ("httpGet", "grpc", "tcpSocket") if probe and a in probe), None)
    if action is None:
        raise PodCheckError(f"{original.title} has no network readinessProbe to break")
    taken = {p["containerPort"] for p in container.get("ports") or []}
    port = next(p for p in range(50000, 60000) if p not in taken)
    probe[action]["port"] = port
    return _copy(original, "wrong-port", template, f"readinessProbe ({action}")


def memory_limit_too_small(original: Workload, limit: str = "24Mi") -> Workload:
    template = copy.deepcopy(dict(original.template))
    resources = template["spec"]["containers"][0].setdefault("resources", {})
    resources.setdefault("limits", {})["memory"] = limit
    resources.setdefault("requests", {})["memory"] = limit  # a request may not exceed its limit
    return _copy(original, "small-memory", template, "OOM-killed")


def broken_copies(deployments: list[Workload]) -> list[Workload]:
    return [
        without_tmp(_named(deployments, "gateway")),
        readiness_on_wrong_port(_named(deployments, "tickets")),
        memory_limit_too_small(_named(deployments, "auth")),
    ]
