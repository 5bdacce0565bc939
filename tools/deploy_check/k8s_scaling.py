"""How a process's Deployment scales: an autoscaler owns the replica count of every process,
except a single writer (model.SINGLE_WRITER), which runs one replica on its own volume."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from tools.deploy_check.k8s_objects import EnvValue, Manifests, _name
from tools.deploy_check.model import SINGLE_WRITER, Process, SingleWriter


def check_scaling(
    p: Process,
    deployment: Mapping,
    container: Mapping,
    env: Mapping[str, EnvValue],
    m: Manifests,
    where: str,
) -> list[str]:
    here = f"{where}: Deployment/{p.name}"
    hpas = [
        h
        for h in m.of_kind("HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"].get("kind") == "Deployment"
        and h["spec"]["scaleTargetRef"].get("name") == p.name
    ]
    single = SINGLE_WRITER.get(p.name)
    if single is not None:
        return check_single_writer(p, single, deployment, container, env, m, hpas, here)
    problems = []
    if not hpas:
        problems.append(f"{here}: no HorizontalPodAutoscaler scales it")
    for h in hpas:
        hs = h["spec"]
        if h["apiVersion"] != "autoscaling/v2":
            problems.append(f"{where}: {_name(h)}: use autoscaling/v2, not {h['apiVersion']}")
        resources = {x.get("resource", {}).get("name") for x in hs.get("metrics") or []}
        if "cpu" not in resources:
            problems.append(f"{where}: {_name(h)}: scales on {sorted(resources)}, not on CPU")
        if hs.get("minReplicas", 1) > hs["maxReplicas"]:
            problems.append(f"{where}: {_name(h)}: minReplicas above maxReplicas")
    if hpas and "replicas" in deployment["spec"]:
        problems.append(
            f"{here}: sets spec.replicas although an HPA scales it (each apply would reset it)"
        )
    return problems


def check_single_writer(
    p: Process,
    single: SingleWriter,
    deployment: Mapping,
    container: Mapping,
    env: Mapping[str, EnvValue],
    m: Manifests,
    hpas: list[Mapping],
    here: str,
) -> list[str]:
    problems = []
    why = f"it must run one replica: {single.reason}"
    for h in hpas:
        problems.append(f"{here}: {_name(h)} scales it, but {why}")
    if deployment["spec"].get("replicas") != 1:
        problems.append(
            f"{here}: spec.replicas is {deployment['spec'].get('replicas', 'unset')}, "
            f"expected 1: {why}"
        )
    strategy = (deployment["spec"].get("strategy") or {}).get("type", "RollingUpdate")
    if strategy != "Recreate":
        problems.append(
            f"{here}: strategy {strategy} starts the new pod while the old one holds the file; "
            f"use Recreate: {why}"
        )
    problems += _file_on_a_claim(p, single, deployment, container, env, m, here)
    return problems


def _file_on_a_claim(
    p: Process,
    single: SingleWriter,
    deployment: Mapping,
    container: Mapping,
    env: Mapping[str, EnvValue],
    m: Manifests,
    here: str,
) -> list[str]:
    var = single.file_setting.upper()
    value = env.get(var)
    path = value.value if value is not None else p.fields[single.file_setting].default
    if not isinstance(path, str) or not path.startswith("/"):
        return [f"{here}: {var} should be an absolute path on the pod's volume, got {path!r}"]
    mounts = [
        mount
        for mount in container.get("volumeMounts") or []
        if posixpath.commonpath([mount["mountPath"], path]) == mount["mountPath"].rstrip("/")
    ]
    if not mounts:
        return [f"{here}: {var}={path} is on no volume: the file would be lost with the pod"]
    mount = max(mounts, key=lambda x: len(x["mountPath"]))  # the innermost one holds it
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"].get("volumes") or []}
    claim = (volumes.get(mount["name"]) or {}).get("persistentVolumeClaim")
    if claim is None:
        return [
            f"{here}: {var}={path} is on volume {mount['name']}, not a PersistentVolumeClaim: "
            "the file would be lost with the pod"
        ]
    if mount.get("readOnly"):
        return [f"{here}: {var}={path} is on a read-only mount"]
    name = claim.get("claimName")
    if m.get("PersistentVolumeClaim", name) is None:
        return [f"{here}: mounts PersistentVolumeClaim {name}, which is not there"]
    return []
