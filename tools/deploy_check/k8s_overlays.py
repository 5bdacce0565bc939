"""What holds across a whole overlay: hardening, secrets, config maps, network policies, the
ingress; and the entry to every Kubernetes check."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.deploy_check.identity import check_access_tables, check_identity_k8s
from tools.deploy_check.k8s_effective import check_effective
from tools.deploy_check.k8s_egress import check_egress
from tools.deploy_check.k8s_network import check_network_policies
from tools.deploy_check.k8s_objects import (
    Manifests,
    _name,
    check_schema,
    container_env,
    containers,
    pod_template,
)
from tools.deploy_check.k8s_processes import check_process_k8s, secret_from_k8s
from tools.deploy_check.k8s_sources import check_yaml_sources
from tools.deploy_check.metrics import check_metrics_not_public
from tools.deploy_check.model import (
    DATASTORE_SETTINGS,
    INGRESS_PATHS,
    NON_SETTINGS_ENV,
    OVERLAYS,
    ROOT,
    SHARED_SECRETS,
    CheckError,
    Process,
    _secret_pairs,
    load_processes,
    secret_owners,
)
from tools.deploy_check.render import k8s_versions, render_overlay

# ---------------------------------------------------------------- Kubernetes: the whole


def check_pod_hardening(m: Manifests, where: str) -> list[str]:
    """The restricted Pod Security Standard, resources, and no service-account token."""
    problems = []
    for w in m.workloads():
        here = f"{where}: {_name(w)}"
        spec = pod_template(w)["spec"]
        pod_sc = spec.get("securityContext") or {}
        if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
            problems.append(f"{here}: shares a host namespace")
        if any("hostPath" in v for v in spec.get("volumes") or []):
            problems.append(f"{here}: mounts a hostPath")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{here}: set automountServiceAccountToken: false (no API access)")
        for c in containers(spec):
            ch = f"{here}: container {c['name']}"
            sc = c.get("securityContext") or {}
            if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
                problems.append(f"{ch}: runAsNonRoot is not true")
            if sc.get("runAsUser", pod_sc.get("runAsUser")) in (None, 0):
                problems.append(f"{ch}: set a non-zero runAsUser (the kubelet checks it)")
            seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile")) or {}
            if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
                problems.append(f"{ch}: seccompProfile RuntimeDefault is not set")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{ch}: allowPrivilegeEscalation is not false")
            if sc.get("privileged"):
                problems.append(f"{ch}: is privileged")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{ch}: readOnlyRootFilesystem is not true")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{ch}: does not drop ALL capabilities")
            if (sc.get("capabilities") or {}).get("add"):
                problems.append(f"{ch}: adds capabilities")
            resources = c.get("resources") or {}
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in (resources.get(kind) or {}):
                        problems.append(f"{ch}: no {resource} {kind}")
    return problems


def check_secrets_stay_with_owners(
    processes: Sequence[Process], m: Manifests, where: str
) -> list[str]:
    """A Secret that backs one process's own secret is mounted or referenced by no other pod."""
    private: dict[str, set[str]] = {}  # Secret name -> processes allowed to use it
    by_name = {p.name: p for p in processes}
    for setting, owners in secret_owners(processes).items():
        if setting in SHARED_SECRETS:
            continue
        for owner in owners:
            d = m.get("Deployment", owner)
            if d is None:
                continue
            spec = pod_template(d)["spec"]
            for c in spec["containers"]:
                env, _ = container_env(c, m, "")
                found = secret_from_k8s(spec, c, env)(f"{setting.upper()}_FILE") or secret_from_k8s(
                    spec, c, env
                )(setting.upper())
                if isinstance(found, tuple):
                    private.setdefault(found[0], set()).update(owners)
    problems = []
    for w in m.workloads():
        spec = pod_template(w)["spec"]
        name = w["metadata"]["name"]
        used = {v["secret"]["secretName"] for v in spec.get("volumes") or [] if "secret" in v}
        for c in containers(spec):
            for item in c.get("env") or []:
                ref = (item.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    used.add(ref["name"])
        for secret in sorted(used & set(private)):
            if name not in private[secret] or name not in by_name:
                holders = ", ".join(sorted(private[secret]))
                problems.append(
                    f"{where}: {_name(w)} uses Secret {secret}, which only {holders} may"
                )
    return problems


def check_config_maps(processes: Sequence[Process], m: Manifests, where: str) -> list[str]:
    """Every key of a ConfigMap the processes load is read by one of them, and none is secret."""
    problems = []
    consumers: dict[str, list[Process]] = {}
    by_name = {p.name: p for p in processes}
    for d in m.of_kind("Deployment"):
        p = by_name.get(d["metadata"]["name"])
        for c in pod_template(d)["spec"]["containers"]:
            for source in c.get("envFrom") or []:
                if "configMapRef" in source and p is not None:
                    consumers.setdefault(source["configMapRef"]["name"], []).append(p)
    secrets = set().union(*(_secret_pairs(p.fields) for p in processes))
    for name, readers in consumers.items():
        known = set().union(*(p.env_vars for p in readers))
        for key in sorted(m.config_map_data(name) or {}):
            setting = key.lower().removesuffix("_file")
            if setting in secrets or key in DATASTORE_SETTINGS.values():
                problems.append(f"{where}: ConfigMap/{name}: {key} is secret; put it in a Secret")
            elif key not in known and not NON_SETTINGS_ENV.match(key):
                readers_names = ", ".join(sorted(p.name for p in readers))
                problems.append(
                    f"{where}: ConfigMap/{name}: no process reads {key} (read by {readers_names}: "
                    "a typo, or a setting that no longer exists?)"
                )
    return problems


LIMIT_CONNECTIONS = "nginx.ingress.kubernetes.io/limit-connections"


def _connections_per_address(ingress: Any, here: str) -> list[str]:
    """The gateway does not count the ingress controller's connections (it is a trusted proxy,
    gateway/edge.py): the controller caps each client address itself."""
    value = ((ingress.get("metadata") or {}).get("annotations") or {}).get(LIMIT_CONNECTIONS)
    if value is None or not str(value).isdigit() or int(value) < 1:
        return [
            f"{here}: {LIMIT_CONNECTIONS} is {value!r}, not a positive number: nothing caps "
            "the connections one client address holds (the gateway counts none of the ingress "
            "controller's)"
        ]
    return []


def check_ingress(processes: Sequence[Process], m: Manifests, where: str, tls: bool) -> list[str]:
    gateway = next((p for p in processes if not p.grpc), None)
    ingresses = list(m.of_kind("Ingress"))
    if gateway is None:
        return []
    if not ingresses:
        return [f"{where}: no Ingress routes to the {gateway.name}"]
    problems = []
    routes: dict[str, tuple[str, Any]] = {}
    for ing in ingresses:
        here = f"{where}: {_name(ing)}"
        if ing["spec"].get("ingressClassName") != "nginx":
            problems.append(f"{here}: ingressClassName is not nginx")
        if tls and not ing["spec"].get("tls"):
            problems.append(f"{here}: no TLS")
        problems += _connections_per_address(ing, here)
        for rule in ing["spec"].get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = path["backend"].get("service") or {}
                routes[path["path"]] = (backend.get("name"), backend.get("port") or {})
                if path["path"] in INGRESS_PATHS and path.get("pathType") != "Prefix":
                    problems.append(
                        f"{here}: routes {path['path']} as {path.get('pathType')}, not Prefix: "
                        "every path of the gateway's public port is public"
                    )
    service = m.get("Service", gateway.name)
    service_ports = {
        sp.get("name"): sp["port"]
        for sp in (service or {"spec": {}})["spec"].get("ports") or []
        if sp["port"] == gateway.port
    }
    for path in INGRESS_PATHS:
        if path not in routes:
            problems.append(f"{where}: the Ingress does not route {path}")
            continue
        name, port = routes[path]
        number = port.get("number", service_ports.get(port.get("name")))
        if name != gateway.name or number not in service_ports.values():
            problems.append(
                f"{where}: the Ingress sends {path} to {name}:{port}, not to Service "
                f"{gateway.name} port {sorted(service_ports.values())}"
            )
    return problems


def check_overlay(
    root: Path, overlay: str, processes: Sequence[Process], versions: Sequence[str]
) -> list[str]:
    where = f"k8s/overlays/{overlay}"
    try:
        docs = render_overlay(root, overlay)
    except CheckError as exc:
        return [f"{where}: kubectl kustomize failed: {exc}"]
    m = Manifests(docs)
    problems = check_schema(docs, where, versions)
    for p in processes:
        problems += check_process_k8s(p, processes, m, where)
    problems += check_pod_hardening(m, where)
    problems += check_secrets_stay_with_owners(processes, m, where)
    problems += check_identity_k8s(processes, m, where)
    problems += check_config_maps(processes, m, where)
    problems += check_network_policies(processes, m, where)
    problems += check_egress(processes, m, where)
    problems += check_ingress(processes, m, where, tls=overlay == "prod")
    problems += check_metrics_not_public(processes, m, where)
    problems += check_effective(processes, m, overlay)
    for d in docs:
        if d["kind"] not in ("Namespace",) and not (d.get("metadata") or {}).get("namespace"):
            problems.append(
                f"{where}: {_name(d)} has no namespace (set `namespace:` in the overlay)"
            )
    problems += check_images(processes, m, where, release=overlay == "prod")
    return problems


def _image_parts(image: str) -> tuple[str, str | None]:
    """(name without registry, tag or digest) of an image reference."""
    ref, at, digest = image.partition("@")
    last = ref.rsplit("/", 1)[-1]
    name, colon, tag = last.partition(":")
    return name, (digest if at else tag if colon else None)


def check_images(
    processes: Sequence[Process], m: Manifests, where: str, release: bool
) -> list[str]:
    """Each process runs its own image (Process.image), all of one version."""
    problems, versions = [], set()
    for p in processes:
        d = m.get("Deployment", p.name)
        spec = pod_template(d)["spec"] if d is not None else {"containers": []}
        c = next((c for c in spec["containers"] if c["name"] == p.name), None)
        if c is None:
            continue  # reported by the process checks
        name, version = _image_parts(c["image"])
        versions.add(version)
        if name != p.image:
            problems.append(
                f"{where}: Deployment/{p.name} runs image {c['image']}, expected {p.image} "
                "(Process.image; set its registry and tag in the overlay's images:)"
            )
        if release and version in (None, "latest", "dev"):
            problems.append(f"{where}: image {c['image']} has no release tag or digest")
    if len(versions) > 1:
        shown = sorted(str(v) for v in versions)
        problems.append(f"{where}: the processes run images of different versions {shown}")
    return problems


def check_base_is_namespace_agnostic(root: Path) -> list[str]:
    try:
        docs = render_overlay(root, "k8s/base")
    except CheckError as exc:
        return [f"k8s/base: kubectl kustomize failed: {exc}"]
    return [
        f"k8s/base: {_name(d)} sets a namespace; the overlays choose it"
        for d in docs
        if (d.get("metadata") or {}).get("namespace")
    ]


def check_kubernetes(
    root: Path = ROOT,
    processes: Sequence[Process] | None = None,
    overlays: Sequence[str] = OVERLAYS,
) -> list[str]:
    processes = load_processes() if processes is None else processes
    versions = k8s_versions()
    problems = check_yaml_sources(root)
    problems += check_base_is_namespace_agnostic(root)
    problems += check_access_tables(processes)
    for overlay in overlays:
        problems += check_overlay(root, overlay, processes, versions)
    return problems
