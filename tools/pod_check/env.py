"""A container's environment as the kubelet builds it, from the rendered overlay and the Secrets.

The order and rules are the kubelet's (pkg/kubelet/kubelet_pods.go, makeEnvironmentVariables):
`envFrom` first, then `env` in order, each value's `$(VAR)` expanded against what is declared
before it and the Service variables; then the Service variables nothing declared. Those are the
Docker-links-style variables (`TICKETS_PORT=tcp://10.96.0.12:50052`, ...) the kubelet injects for
every Service with a cluster IP in the pod's namespace unless the pod says
`enableServiceLinks: false`, and for the API server's `kubernetes` Service always.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tools.pod_check.model import NotEmulated, Overlay, PodCheckError, Secrets, Workload

# Cluster IPs are made up (nothing routes them here): only the variables' names and shapes matter.
KUBERNETES_SERVICE_IP = "10.96.0.1"
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def expand(text: str, lookup: Mapping[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion (third_party/forked/golang/expansion): `$(NAME)` becomes
    its value when NAME is known and stays as written when not; `$$` is a literal `$`."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "$" or i + 1 >= len(text):
            out.append(text[i])
            i += 1
            continue
        following = text[i + 1]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "(":
            close = text.find(")", i + 2)
            if close == -1:
                out.append("$(")
                i += 2
                continue
            name = text[i + 2 : close]
            out.append(lookup.get(name, f"$({name})"))
            i = close + 1
        else:
            out.append("$" + following)
            i += 2
    return "".join(out)


def cluster_ips(overlay: Overlay) -> dict[str, str]:
    """A made-up cluster IP for each Service that would have one (not headless)."""
    names = sorted(
        svc["metadata"]["name"]
        for svc in overlay.services()
        if svc["spec"].get("clusterIP") not in ("None", "")
        and svc["spec"].get("type", "ClusterIP") != "ExternalName"
    )
    return {name: f"10.96.{1 + n // 200}.{10 + n % 200}" for n, name in enumerate(names)}


def _link_vars(name: str, ip: str, ports: list[Mapping]) -> dict[str, str]:
    prefix = name.upper().replace("-", "_")
    first = ports[0]
    out = {
        f"{prefix}_SERVICE_HOST": ip,
        f"{prefix}_SERVICE_PORT": str(first["port"]),
        f"{prefix}_PORT": f"{first.get('protocol', 'TCP').lower()}://{ip}:{first['port']}",
    }
    for port in ports:
        number, proto = port["port"], port.get("protocol", "TCP")
        if port.get("name"):
            out[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(number)
        base = f"{prefix}_PORT_{number}_{proto}"
        out[base] = f"{proto.lower()}://{ip}:{number}"
        out[f"{base}_PROTO"] = proto.lower()
        out[f"{base}_PORT"] = str(number)
        out[f"{base}_ADDR"] = ip
    return out


def service_links(overlay: Overlay, enabled: bool) -> dict[str, str]:
    """The Service variables the kubelet adds to every container of a pod in this namespace."""
    out = _link_vars(
        "kubernetes", KUBERNETES_SERVICE_IP, [{"name": "https", "port": 443, "protocol": "TCP"}]
    )
    if enabled:
        ips = cluster_ips(overlay)
        for svc in overlay.services():
            name = svc["metadata"]["name"]
            if name in ips and svc["spec"].get("ports"):
                out.update(_link_vars(name, ips[name], svc["spec"]["ports"]))
    return out


def _field_ref(path: str, workload: Workload, pod_ip: str) -> str:
    meta = workload.template.get("metadata") or {}
    simple = {
        "metadata.name": workload.pod_name,
        "metadata.namespace": workload.namespace,
        "spec.serviceAccountName": workload.spec.get("serviceAccountName", "default"),
        "status.podIP": pod_ip,
    }
    if path in simple:
        return simple[path]
    found = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if found:
        return str((meta.get(found[1]) or {}).get(found[2], ""))
    raise NotEmulated(f"{workload.title}: fieldRef {path} is not emulated by pod-check")


def container_env(
    workload: Workload,
    container: Mapping,
    overlay: Overlay,
    secrets: Secrets,
    pod_ip: str,
) -> dict[str, str]:
    """Every variable the container starts with (besides its image's own ENV)."""
    where = f"{workload.title} container {container['name']}"
    links = service_links(overlay, workload.spec.get("enableServiceLinks", True))
    declared: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            ref = source["configMapRef"]
            data = overlay.config_map(ref["name"])
            if data is None and not ref.get("optional"):
                raise PodCheckError(f"{where}: envFrom ConfigMap {ref['name']} does not exist")
            items = dict(data or {})
        elif "secretRef" in source:
            ref = source["secretRef"]
            if ref["name"] not in secrets.data and not ref.get("optional"):
                raise PodCheckError(f"{where}: envFrom Secret {ref['name']} does not exist")
            items = {k: v.decode() for k, v in (secrets.data.get(ref["name"]) or {}).items()}
        else:
            raise NotEmulated(f"{where}: envFrom {sorted(source)} is not emulated by pod-check")
        for key, value in items.items():
            if _ENV_NAME.match(prefix + key):  # the kubelet skips keys that are no variable name
                declared[prefix + key] = value
    for var in container.get("env") or []:
        name = var["name"]
        source = var.get("valueFrom")
        if source is None:
            declared[name] = expand(var.get("value", ""), {**links, **declared})
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            if ref.get("optional") and ref["key"] not in (secrets.data.get(ref["name"]) or {}):
                continue
            declared[name] = secrets.value(ref["name"], ref["key"], f"{where} env {name}").decode()
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            data = overlay.config_map(ref["name"]) or {}
            if ref["key"] not in data:
                if ref.get("optional"):
                    continue
                raise PodCheckError(
                    f"{where} env {name}: ConfigMap {ref['name']} has no key {ref['key']}"
                )
            declared[name] = data[ref["key"]]
        elif "fieldRef" in source:
            declared[name] = _field_ref(source["fieldRef"]["fieldPath"], workload, pod_ip)
        else:
            raise NotEmulated(f"{where} env {name}: {sorted(source)} is not emulated by pod-check")
    return {**links, **declared}


def command_line(
    container: Mapping, env: Mapping[str, str]
) -> tuple[list[str] | None, list[str] | None]:
    """`command` and `args` with `$(VAR)` expanded against the container's environment."""
    command = container.get("command")
    args = container.get("args")
    return (
        None if command is None else [expand(part, env) for part in command],
        None if args is None else [expand(part, env) for part in args],
    )
