"""Every process gets its service identity (docs/security.md, "Services check who calls"): each
process an access table admits as a caller (svc_*/entrypoints/access.py) signs its calls with a
private key of its own, which no other process gets, and a process that calls no service holds
no key (a key it does not use is one more to leak); every gRPC service reads the callers' public
keys. And the access tables agree with model.CALLS (the addresses and NetworkPolicies)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence

from common.service_identity import CLI, Access
from tools.deploy_check.k8s_objects import (
    EnvValue,
    Manifests,
    container_env,
    mounted_secret_file,
    pod_template,
)
from tools.deploy_check.model import Process, callees

PRIVATE_KEY, PUBLIC_KEYS = "SERVICE_PRIVATE_KEY_FILE", "SERVICE_PUBLIC_KEYS_DIR"
NOT_A_CALLER = (
    "{name} calls no service (no access table admits it): drop " + PRIVATE_KEY + " and the "
    "{where} of its key"
)


def access_table(p: Process) -> Mapping[str, Access] | None:
    """A gRPC service's access table (svc_*/entrypoints/access.py), None if it has none."""
    try:
        return importlib.import_module(f"{p.package}.entrypoints.access").ACCESS
    except ModuleNotFoundError:
        return None


def admitted_callers(processes: Sequence[Process]) -> dict[str, set[str]]:
    """Service -> the processes its access table admits for some RPC (the operators' `cli`,
    which is no process, left out)."""
    admitted = {}
    for p in processes:
        table = access_table(p) if p.grpc else None
        if table is not None:
            admitted[p.name] = {c for rule in table.values() for c in rule.callers} - {CLI}
    return admitted


def callers(processes: Sequence[Process]) -> set[str]:
    return set().union(*admitted_callers(processes).values())


def check_access_tables(processes: Sequence[Process]) -> list[str]:
    """A caller an access table admits is one that calls the service (model.CALLS: it has the
    address and the NetworkPolicy lets it through), and one that calls a service is admitted."""
    problems = [
        f"{p.package}/entrypoints/access.py: {p.name} has no access table (ACCESS)"
        for p in processes
        if p.grpc and access_table(p) is None
    ]
    by_name = {p.name: p for p in processes}
    for callee, admitted in sorted(admitted_callers(processes).items()):
        for caller in sorted(admitted):
            p = by_name.get(caller)
            if p is None or callee not in {c.name for c in callees(p, processes)}:
                problems.append(
                    f"svc_{callee}/entrypoints/access.py admits {caller}, which does not call "
                    f"{callee} (tools/deploy_check/model.py CALLS)"
                )
    return problems


def check_identity_k8s(processes: Sequence[Process], m: Manifests, where: str) -> list[str]:
    problems = []
    signing = callers(processes)
    key_secrets: dict[str, str] = {}  # Secret -> the process whose key it holds
    for p in processes:
        deployment = m.get("Deployment", p.name)
        if deployment is None:
            continue  # reported by the process checks
        spec = pod_template(deployment)["spec"]
        c = next((c for c in spec["containers"] if c["name"] == p.name), None)
        if c is None:
            continue
        here = f"{where}: Deployment/{p.name}"
        env, _ = container_env(c, m, here)
        if p.name in signing:
            path = env.get(PRIVATE_KEY, EnvValue("other")).value
            found = mounted_secret_file(spec, c, path) if path else None
            if found is None:
                problems.append(
                    f"{here}: {p.name} calls other services and needs its own service key: "
                    f"{PRIVATE_KEY} must name a file of a mounted Secret"
                )
            else:
                key_secrets[found[0]] = p.name
        elif PRIVATE_KEY in env:
            problems.append(f"{here}: {NOT_A_CALLER.format(name=p.name, where='Secret')}")
        if p.grpc:
            directory = env.get(PUBLIC_KEYS, EnvValue("other")).value
            mounts = {mount["mountPath"].rstrip("/") for mount in c.get("volumeMounts") or []}
            if not directory or directory.rstrip("/") not in mounts:
                problems.append(
                    f"{here}: {PUBLIC_KEYS} must name a mounted volume of the callers' public "
                    "keys: it checks who calls"
                )
    for d in m.workloads():
        spec = pod_template(d)["spec"]
        name = d["metadata"]["name"]
        for volume in spec.get("volumes") or []:
            owner = key_secrets.get((volume.get("secret") or {}).get("secretName", ""))
            if owner is not None and owner != name:
                problems.append(
                    f"{where}: {d['kind']}/{name} mounts Secret {volume['secret']['secretName']}, "
                    f"the service key of {owner} only"
                )
    return problems


def check_identity_compose(
    processes: Sequence[Process], services: Mapping[str, Mapping]
) -> list[str]:
    problems = []
    signing = callers(processes)
    key_volumes: dict[str, str] = {}  # volume -> the process whose key it holds
    for p in processes:
        s = services.get(p.name)
        if s is None:
            continue  # reported by the process checks
        here = f"docker-compose.yml: service {p.name}"
        env = s.get("environment") or {}
        volumes = [v for v in s.get("volumes") or [] if v.get("type") == "volume"]
        if p.name in signing:
            path = env.get(PRIVATE_KEY) or ""
            holder = [v for v in volumes if path.startswith(v["target"].rstrip("/") + "/")]
            if not holder:
                problems.append(
                    f"{here}: {p.name} calls other services and needs its own service key: "
                    f"{PRIVATE_KEY} must name a file of a volume it mounts"
                )
            else:
                key_volumes[holder[0]["source"]] = p.name
        elif PRIVATE_KEY in env:
            problems.append(f"{here}: {NOT_A_CALLER.format(name=p.name, where='volume')}")
        if p.grpc:
            directory = (env.get(PUBLIC_KEYS) or "").rstrip("/")
            if not directory or directory not in {v["target"].rstrip("/") for v in volumes}:
                problems.append(
                    f"{here}: {PUBLIC_KEYS} must name a volume of the callers' public keys"
                )
    for name, s in services.items():
        if s.get("restart") == "no":
            continue  # the one-shot that writes the keys
        for v in s.get("volumes") or []:
            owner = key_volumes.get(v.get("source") or "")
            if owner is not None and owner != name:
                problems.append(
                    f"docker-compose.yml: service {name} mounts volume {v['source']}, the "
                    f"service key of {owner} only"
                )
    return problems
