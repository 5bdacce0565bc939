"""GATEWAY_WORKERS: an explicit count, or (0, unset) one worker per CPU the process may use,
the cgroup's CPU quota (a pod's CPU limit) first."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from common.settings import ConfigError
from gateway.__main__ import freeze_startup_heap
from gateway.config import GatewaySettings
from gateway.workers import available_cpus, cgroup_cpus, cgroup_v1_cpus, cgroup_v2_cpus

SCHEDULABLE = len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("cpu_max", "cpus"),
    [
        ("200000 100000\n", 2),
        ("400000 100000", 4),
        ("150000 100000\n", 1),  # 1.5 CPUs: one worker, not two throttled in turn
        ("50000 100000\n", 1),  # less than one CPU still runs one
        ("max 100000\n", None),  # no limit
    ],
)
def test_cpus_from_cgroup_v2_cpu_max(cpu_max: str, cpus: int | None) -> None:
    assert cgroup_v2_cpus(cpu_max) == cpus


@pytest.mark.parametrize(
    ("quota", "period", "cpus"),
    [("300000\n", "100000\n", 3), ("-1\n", "100000\n", None), ("25000", "100000", 1)],
)
def test_cpus_from_cgroup_v1_cfs_quota(quota: str, period: str, cpus: int | None) -> None:
    assert cgroup_v1_cpus(quota, period) == cpus


def _cgroup(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_v2_file_is_read_from_the_cgroup_root(tmp_path: Path) -> None:
    assert cgroup_cpus(_cgroup(tmp_path, {"cpu.max": "100000 100000\n"})) == 1


@pytest.mark.parametrize("controller", ["cpu", "cpu,cpuacct"])
def test_the_v1_files_are_read_from_the_cpu_controller(tmp_path: Path, controller: str) -> None:
    root = _cgroup(
        tmp_path,
        {f"{controller}/cpu.cfs_quota_us": "100000\n", f"{controller}/cpu.cfs_period_us": "100000"},
    )
    assert cgroup_cpus(root) == 1


@pytest.mark.parametrize(
    "files", [{}, {"cpu.max": "max 100000\n"}, {"cpu.max": "lots\n"}, {"cpu.max": "a b"}]
)
def test_without_a_readable_limit_every_schedulable_cpu_counts(
    tmp_path: Path, files: dict[str, str]
) -> None:
    assert available_cpus(_cgroup(tmp_path, files)) == SCHEDULABLE


def test_a_quota_above_the_schedulable_cpus_is_capped(tmp_path: Path) -> None:
    root = _cgroup(tmp_path, {"cpu.max": f"{(SCHEDULABLE + 8) * 100000} 100000"})
    assert available_cpus(root) == SCHEDULABLE


@pytest.mark.parametrize("raw", [None, "0"])
def test_auto_is_the_default_and_follows_the_cpu_quota(tmp_path: Path, raw: str | None) -> None:
    env = {} if raw is None else {"GATEWAY_WORKERS": raw}
    settings = GatewaySettings.from_env(env)
    assert settings.workers(_cgroup(tmp_path, {"cpu.max": "100000 100000\n"})) == 1
    assert settings.workers(_cgroup(tmp_path / "none", {})) == SCHEDULABLE


def test_an_explicit_count_wins_over_the_cpu_quota(tmp_path: Path) -> None:
    settings = GatewaySettings.from_env({"GATEWAY_WORKERS": "3"})
    assert settings.workers(_cgroup(tmp_path, {"cpu.max": "100000 100000\n"})) == 3


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("two", "GATEWAY_WORKERS must be a number, got 'two'"),
        ("1.5", "GATEWAY_WORKERS must be a number, got '1.5'"),
        ("-1", "GATEWAY_WORKERS must be 0 (one per CPU) or more, got '-1'"),
    ],
)
def test_a_bad_worker_count_is_a_configuration_error(raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        GatewaySettings.from_env({"GATEWAY_WORKERS": raw})
    assert str(caught.value) == message


def test_a_worker_leaves_its_startup_heap_out_of_full_collections() -> None:
    held_at_start = [object() for _ in range(1_000)]
    try:
        freeze_startup_heap()
        tracked = {id(o) for o in gc.get_objects()}
        assert id(held_at_start) not in tracked  # what start-up made is not walked again
        made_later = [object()]
        assert id(made_later) in {id(o) for o in gc.get_objects()}
    finally:
        gc.unfreeze()
