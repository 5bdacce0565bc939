"""How many gateway worker processes the machine (or the pod's CPU limit) has room for.

One gateway process saturates one core (the GIL), so a gateway with N cores runs N workers on
one listening socket. In a container the CPU limit is the cgroup's quota, not the host's cores:
a pod limited to 2 CPUs on a 16-core node gets 2 workers, not 16.
"""

from __future__ import annotations

import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def cpus_of_quota(quota: int, period: int) -> int:
    """Whole CPUs a CFS quota allows, at least one: 1.5 CPUs run one worker, not two that
    would be throttled in turn."""
    return max(1, quota // period)


def cgroup_v2_cpus(cpu_max: str) -> int | None:
    """From the text of cgroup v2 `cpu.max` ("200000 100000", or "max 100000": no limit)."""
    quota, _, period = cpu_max.strip().partition(" ")
    if quota == "max" or not period:
        return None
    return cpus_of_quota(int(quota), int(period))


def cgroup_v1_cpus(cfs_quota_us: str, cfs_period_us: str) -> int | None:
    """From cgroup v1 `cpu.cfs_quota_us` (-1: no limit) and `cpu.cfs_period_us`."""
    quota = int(cfs_quota_us)
    if quota <= 0:
        return None
    return cpus_of_quota(quota, int(cfs_period_us))


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def cgroup_cpus(root: Path = CGROUP_ROOT) -> int | None:
    """The CPU limit at the cgroup root (v2, else v1), None when there is none. In a container
    that root is the container's own cgroup (a cgroup namespace), so its limit is the pod's."""
    try:
        if (cpu_max := _read(root / "cpu.max")) is not None:
            return cgroup_v2_cpus(cpu_max)
        for controller in ("cpu", "cpu,cpuacct"):
            quota = _read(root / controller / "cpu.cfs_quota_us")
            period = _read(root / controller / "cpu.cfs_period_us")
            if quota is not None and period is not None:
                return cgroup_v1_cpus(quota, period)
    except ValueError:
        return None  # a format this code does not know: fall back on the CPUs we may run on
    return None


def available_cpus(root: Path = CGROUP_ROOT) -> int:
    """CPUs this process may use: the cgroup's quota, capped by the CPUs it may be scheduled on."""
    schedulable = len(os.sched_getaffinity(0))
    limit = cgroup_cpus(root)
    return min(limit, schedulable) if limit else schedulable
