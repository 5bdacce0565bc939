"""Reading rendered Kubernetes objects: schema validation, workloads, selectors, ports, env."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

# ---------------------------------------------------------------- Kubernetes: schema


def check_schema(docs: Sequence[dict], where: str, versions: Sequence[str]) -> list[str]:
    from kubernetes_validate import utils

    problems = []
    for doc in docs:
        for version in versions:
            try:
                utils.validate(doc, version, strict=True)
            except utils.ValidationError as exc:
                path = ".".join(str(p) for p in exc.path) or "(top level)"
                problems.append(
                    f"{where}: {_name(doc)}: not valid Kubernetes {exc.version} "
                    f"(kubernetes-validate --strict) at {path}: {exc.message}"
                )
                break
            except utils.SchemaNotFoundError as exc:
                problems.append(f"{where}: {_name(doc)}: {exc.message}")
                break
    return problems


def _name(doc: Mapping) -> str:
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


# ---------------------------------------------------------------- Kubernetes: reading objects


class Manifests:
    def __init__(self, docs: Sequence[dict]) -> None:
        self.docs = list(docs)

    def of_kind(self, *kinds: str) -> Iterator[dict]:
        return (d for d in self.docs if d.get("kind") in kinds)

    def get(self, kind: str, name: str) -> dict | None:
        return next((d for d in self.of_kind(kind) if d["metadata"]["name"] == name), None)

    def workloads(self) -> Iterator[dict]:
        return self.of_kind("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")

    def config_map_data(self, name: str) -> dict[str, str] | None:
        cm = self.get("ConfigMap", name)
        return None if cm is None else dict(cm.get("data") or {})


def pod_template(workload: Mapping) -> dict:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]


def containers(pod_spec: Mapping, init: bool = True) -> list[dict]:
    return [*(pod_spec.get("initContainers") or [] if init else []), *pod_spec["containers"]]


def selector_matches(selector: Mapping | None, labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector against a set of labels ({} matches everything)."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def service_selects(service: Mapping, labels: Mapping[str, str]) -> bool:
    selector = service["spec"].get("selector") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def resolve_port(port: int | str | None, container_ports: Mapping[str, int]) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, str):
        return int(port) if port.isdigit() else container_ports.get(port)
    return None


def named_ports(container: Mapping) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for p in container.get("ports") or [] if "name" in p}


@dataclass
class EnvValue:
    """Where a container's environment variable comes from."""

    source: str  # "value", "secret", "configmap", "other"
    value: str | None = None  # literal value (also for ConfigMap keys we can read)
    ref: str | None = None  # Secret or ConfigMap name
    key: str | None = None


def container_env(container: Mapping, manifests: Manifests, where: str) -> tuple[dict, list]:
    env: dict[str, EnvValue] = {}
    problems = []
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            data = manifests.config_map_data(name)
            if data is None:
                problems.append(f"{where}: envFrom ConfigMap {name} is not in the manifests")
                continue
            for key, value in data.items():
                env[key] = EnvValue("configmap", value, name, key)
        else:
            problems.append(
                f"{where}: envFrom {sorted(source)} hides which settings it provides; "
                "use env entries with secretKeyRef instead"
            )
    for item in container.get("env") or []:
        name, ref = item["name"], item.get("valueFrom") or {}
        if "value" in item:
            env[name] = EnvValue("value", str(item["value"]))
        elif "secretKeyRef" in ref:
            env[name] = EnvValue(
                "secret", None, ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"]
            )
        elif "configMapKeyRef" in ref:
            cm = ref["configMapKeyRef"]
            data = manifests.config_map_data(cm["name"]) or {}
            env[name] = EnvValue("configmap", data.get(cm["key"]), cm["name"], cm["key"])
        else:
            env[name] = EnvValue("other")
    return env, problems


def mounted_secret_file(pod_spec: Mapping, container: Mapping, path: str) -> tuple[str, str] | None:
    """(Secret name, key) of the file at `path` in the container, if a Secret volume provides it."""
    volumes = {v["name"]: v for v in pod_spec.get("volumes") or []}
    for mount in container.get("volumeMounts") or []:
        prefix = mount["mountPath"].rstrip("/") + "/"
        if not path.startswith(prefix):
            continue
        relative = path[len(prefix) :]
        secret = (volumes.get(mount["name"]) or {}).get("secret")
        if secret is None:
            return None
        items = secret.get("items")
        if items is None:
            return secret["secretName"], relative
        for item in items:
            if item["path"] == relative:
                return secret["secretName"], item["key"]
        return None
    return None
