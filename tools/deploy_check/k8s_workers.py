"""A process that runs worker processes (the gateway's GATEWAY_WORKERS) fits its pod: no more
workers than whole CPUs in limits.cpu, and memory for each of them in limits.memory."""

from __future__ import annotations

import math
from collections.abc import Mapping

from tools import k8s_quantity
from tools.deploy_check.k8s_objects import EnvValue
from tools.deploy_check.model import Process

# Measured (bench/README.md, issue 8): a gateway worker's RSS after load is ~90-100 MiB; the
# supervisor and multiprocessing's resource tracker beside them ~40 MiB.
WORKER_MEMORY_MIB = 128
SUPERVISOR_MEMORY_MIB = 64


def cpus(quantity: object) -> float | None:
    """A Kubernetes CPU quantity ("2", "1500m", 0.5) in CPUs."""
    try:
        return float(k8s_quantity.parse(quantity))
    except k8s_quantity.NotAQuantity:
        return None


def mebibytes(quantity: object) -> float | None:
    """A Kubernetes memory quantity ("512Mi", "1Gi", "536870912") in MiB."""
    try:
        return float(k8s_quantity.parse(quantity)) / 2**20
    except k8s_quantity.NotAQuantity:
        return None


def check_workers(
    p: Process, container: Mapping, env: Mapping[str, EnvValue], here: str
) -> list[str]:
    setting = f"{p.name}_workers"
    if setting not in p.fields:
        return []
    var = setting.upper()
    limits = (container.get("resources") or {}).get("limits") or {}
    cpu_limit, memory_limit = cpus(limits.get("cpu")), mebibytes(limits.get("memory"))
    if cpu_limit is None or memory_limit is None:
        return []  # the hardening check asks for both limits
    whole_cpus = max(1, math.floor(cpu_limit))
    raw = env[var].value if var in env else None
    try:
        explicit = int(raw) if raw is not None else p.fields[setting].default
    except ValueError:
        return []  # reported with the other settings the class rejects
    workers = explicit or whole_cpus  # 0: one per CPU of the quota, as the process counts
    problems = []
    if explicit > whole_cpus:
        problems.append(
            f"{here}: {var}={explicit} but limits.cpu {limits['cpu']} allows {whole_cpus}: the "
            "workers would be throttled in turn (set it to 0: one per CPU of the limit)"
        )
    needed = workers * WORKER_MEMORY_MIB + (SUPERVISOR_MEMORY_MIB if workers > 1 else 0)
    if memory_limit < needed:
        problems.append(
            f"{here}: limits.memory {limits['memory']} is too little for {workers} worker(s) "
            f"({var}={raw if raw is not None else explicit}, limits.cpu {limits['cpu']}): "
            f"{needed}Mi needed ({WORKER_MEMORY_MIB}Mi each"
            + (f", {SUPERVISOR_MEMORY_MIB}Mi for their supervisor)" if workers > 1 else ")")
        )
    return problems
