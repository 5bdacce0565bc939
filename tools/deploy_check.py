"""Static checks of everything that ships the system: the Dockerfile, docker-compose.yml and the
Kubernetes overlays, held against the code's truth -- the processes in `common.services.SERVICES`
and the settings dataclasses each of them reads.

    python -m tools.deploy_check            # from the repository root; exit 1 on any problem

No Docker engine or cluster is needed: overlays are rendered with `kubectl kustomize`, validated
with kubernetes-validate (strict, schemas shipped in the package, offline) and then read; compose
is read through `docker-compose config`. Each problem is one line naming the file or object and
what is wrong with it.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from common.config import CommonSettings, ConfigError
from common.services import SERVICES, ServiceSpec

ROOT = Path(__file__).resolve().parent.parent
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes the manifests support (native sidecars and the preStop sleep action are
# on by default from 1.29/1.30 and GA by 1.33) and the newest schema kubernetes-validate ships.
K8S_MIN_VERSION = "1.33.0"

# Which datastores a process connects to, and the setting that says where each one is. Processes
# not listed use all three (so a new service is held to the strictest rule until listed here).
DATASTORE_SETTINGS = {"mongo": "MONGO_URL", "rabbitmq": "AMQP_URL", "redis": "REDIS_URL"}
USES = {
    "gateway": {"redis"},  # token revocation only; it talks to the services over gRPC
    "expiration": {"rabbitmq", "redis"},  # its schedule lives in Redis; no documents
}
# The gRPC services a process calls (its `<service>_ADDR` settings must reach them): the
# gateway all of them; tickets asks orders (the authority on holds) before committing an edit;
# orders and payments read through what their events have not brought yet.
CALLS = {
    "gateway": "all",
    "tickets": ("orders",),
    "orders": ("tickets",),
    "payments": ("orders",),
}
# Every process needs the public key to verify tokens; secrets a service's own settings class
# declares (JWT private key: auth; Stripe secret key: payments; webhook secret: gateway) are
# needed by that process and must reach no other.
SHARED_SECRETS = {"jwt_public_key"}
# Environment variables a container may set that are not settings fields.
NON_SETTINGS_ENV = re.compile(r"^(PYTHON\w*|HOME|TZ)$")
# Published ports a developer needs from docker compose: the gateway and the RabbitMQ UI.
COMPOSE_PUBLISHED = {"gateway": None, "rabbitmq": {15672}}  # None: the gateway's own port
INGRESS_PATHS = ("/graphql", "/api", "/webhooks")
INGRESS_CONTROLLER = {
    "namespace": {"kubernetes.io/metadata.name": "ingress-nginx"},
    "pod": {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
}
PRE_STOP_MARGIN_SECONDS = 5
LOOPBACK = re.compile(r"127\.0\.0\.1|localhost|\[::1\]")


class CheckError(RuntimeError):
    """A check could not run at all (a tool failed, a file is missing)."""


# ---------------------------------------------------------------- the code's truth


@dataclass(frozen=True)
class Process:
    """One process of the system, as the code defines it."""

    name: str
    settings: type[CommonSettings]
    grpc: bool
    package: str  # the Python package that holds its code

    @property
    def fields(self) -> dict[str, dataclasses.Field]:
        return {f.name: f for f in dataclasses.fields(self.settings)}

    @property
    def env_vars(self) -> set[str]:
        return {name.upper() for name in self.fields}

    @property
    def port_setting(self) -> str:
        return f"{self.name}_port"

    @property
    def port(self) -> int:
        field = self.fields.get(self.port_setting)
        if field is None or not isinstance(field.default, int):
            raise CheckError(
                f"{self.settings.__name__} has no integer default {self.port_setting}: "
                "cannot tell which port the process listens on"
            )
        return field.default

    @property
    def uses(self) -> set[str]:
        return USES.get(self.name, set(DATASTORE_SETTINGS))

    @property
    def required(self) -> set[str]:
        """Settings without a default, and those whose default is this machine (fine for
        `ticketing run`, wrong in a container), the datastore URLs of what it uses among them."""
        names = set()
        for f in self.fields.values():
            var = f.name.upper()
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                names.add(var)
            elif isinstance(f.default, str) and LOOPBACK.search(f.default):
                if var not in DATASTORE_SETTINGS.values():
                    names.add(var)
        return names | {DATASTORE_SETTINGS[d] for d in self.uses}

    @property
    def secrets(self) -> set[str]:
        """Secret settings (`x` with an `x_file` twin) this process cannot run without."""
        own = set(self.fields) - {f.name for f in dataclasses.fields(CommonSettings)}
        return {x for x in _secret_pairs(self.fields) if x in own or x in SHARED_SECRETS}

    def describe(self, setting: str) -> str:
        return f"{self.settings.__name__}.{setting}"


def _secret_pairs(fields: Iterable[str]) -> set[str]:
    names = set(fields)
    return {name for name in names if f"{name}_file" in names}


def settings_class(spec: ServiceSpec) -> type[CommonSettings]:
    """The CommonSettings subclass defined in the service package's config module."""
    module_name = spec.module.rsplit(".", 1)[0] + ".config"
    module = importlib.import_module(module_name)
    found = [
        cls
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, CommonSettings)
        and cls is not CommonSettings
        and cls.__module__ == module_name
    ]
    if len(found) != 1:
        raise CheckError(f"{module_name} should define exactly one CommonSettings subclass")
    return found[0]


def load_processes(specs: Sequence[ServiceSpec] = SERVICES) -> list[Process]:
    return [
        Process(s.name, settings_class(s), s.grpc_service is not None, s.module.split(".")[0])
        for s in specs
    ]


def grpc_addr_setting(service: str) -> str:
    return f"{service.upper()}_ADDR"


def callees(process: Process, processes: Sequence[Process]) -> list[Process]:
    calls = CALLS.get(process.name)
    if calls == "all":
        return [p for p in processes if p.grpc]
    return [p for p in processes if p.name in (calls or ())]


def secret_owners(processes: Sequence[Process]) -> dict[str, set[str]]:
    """Secret setting -> the processes allowed to hold it."""
    owners: dict[str, set[str]] = {}
    for p in processes:
        for secret in p.secrets:
            owners.setdefault(secret, set()).add(p.name)
    return owners


# ---------------------------------------------------------------- tools


def _tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise CheckError(f"{name} is not installed (make install puts it in .venv/bin)")
    return found


def _run(argv: list[str], cwd: Path) -> str:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise CheckError(f"`{' '.join(argv)}` failed:\n{result.stderr.strip()}")
    return result.stdout


def render_overlay(root: Path, overlay: str) -> list[dict[str, Any]]:
    path = root / "k8s" / "overlays" / overlay if "/" not in overlay else root / overlay
    out = _run([_tool("kubectl"), "kustomize", str(path)], root)
    return [doc for doc in yaml.safe_load_all(out) if doc]


def k8s_versions() -> tuple[str, ...]:
    from kubernetes_validate import utils

    return (K8S_MIN_VERSION, utils.latest_version())


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


# ---------------------------------------------------------------- Kubernetes: the processes


def check_process_k8s(
    p: Process, processes: Sequence[Process], m: Manifests, where: str
) -> list[str]:
    problems: list[str] = []
    deployment = m.get("Deployment", p.name)
    if deployment is None:
        return [
            f"{where}: no Deployment named {p.name} for the process {p.name} "
            "(common.services.SERVICES)"
        ]
    here = f"{where}: Deployment/{p.name}"
    pod = pod_template(deployment)
    spec, labels = pod["spec"], pod["metadata"].get("labels") or {}
    app = [c for c in spec["containers"] if c["name"] == p.name]
    if not app:
        return [f"{here}: no container named {p.name}"]
    c = app[0]
    if c.get("command") or c.get("args") != [p.name]:
        problems.append(
            f"{here}: container runs command={c.get('command')} args={c.get('args')}; expected "
            f"args [{p.name!r}] after the image's entrypoint `ticketing serve`"
        )

    # Ports: the code's default, the containerPort, the Service and every probe agree.
    env, env_problems = container_env(c, m, here)
    problems += env_problems
    port = p.port
    override = env.get(p.port_setting.upper())
    if override and override.value is not None and override.value != str(port):
        problems.append(
            f"{here}: sets {p.port_setting.upper()}={override.value}, but the manifests are "
            f"written for {p.describe(p.port_setting)} = {port}"
        )
    ports = named_ports(c)
    container_ports = [x["containerPort"] for x in c.get("ports") or []]
    if port not in container_ports:
        problems.append(
            f"{here}: containerPort {container_ports or 'missing'} does not match "
            f"{p.describe(p.port_setting)} = {port}"
        )
    problems += check_probes(p, c, ports, here)
    problems += check_service(p, m, labels, ports, where)

    # Settings: what the process needs is set, and nothing it does not read.
    problems += check_process_env(p, processes, env, here, secret_from_k8s(spec, c, env))
    problems += check_addresses(p, processes, env, m, here)

    # Graceful shutdown: preStop sleep + drain fit in the termination grace period.
    grace = p.fields["shutdown_grace_seconds"].default
    if "SHUTDOWN_GRACE_SECONDS" in env:
        try:
            grace = float(env["SHUTDOWN_GRACE_SECONDS"].value or 0)
        except ValueError:
            pass  # reported with the other settings the class rejects
    pre_stop = ((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {}).get("seconds", 0)
    period = spec.get("terminationGracePeriodSeconds", 30)
    if period < pre_stop + grace + PRE_STOP_MARGIN_SECONDS:
        problems.append(
            f"{here}: terminationGracePeriodSeconds {period} leaves no room for preStop "
            f"{pre_stop}s + SHUTDOWN_GRACE_SECONDS {grace:g}s (+{PRE_STOP_MARGIN_SECONDS}s)"
        )

    # Scaling: an autoscaler owns the replica count, a disruption budget guards it.
    hpas = [
        h
        for h in m.of_kind("HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"].get("kind") == "Deployment"
        and h["spec"]["scaleTargetRef"].get("name") == p.name
    ]
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
    if not any(
        selector_matches(b["spec"].get("selector"), labels)
        for b in m.of_kind("PodDisruptionBudget")
    ):
        problems.append(f"{here}: no PodDisruptionBudget selects its pods")
    return problems


def check_probes(p: Process, c: Mapping, ports: Mapping[str, int], here: str) -> list[str]:
    problems = []
    # /healthz/deps (every service's state) is a report, never a probe: one service down would
    # keep every gateway pod from starting, or take them all out of the Service.
    expected = {
        "startupProbe": "/healthz",
        "readinessProbe": "/readyz",
        "livenessProbe": "/healthz",
    }
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = c.get(kind)
        if probe is None:
            if kind != "startupProbe":
                problems.append(f"{here}: has no {kind}")
            continue
        if p.grpc:
            if "grpc" not in probe:
                problems.append(f"{here}: {kind} should be a native gRPC probe (grpc: port:)")
                continue
            probe_port = probe["grpc"].get("port")
        else:
            if "httpGet" not in probe:
                problems.append(f"{here}: {kind} should be an HTTP probe (httpGet)")
                continue
            path = probe["httpGet"].get("path")
            if kind in expected and path != expected[kind]:
                problems.append(f"{here}: {kind} asks {path}, expected {expected[kind]}")
            probe_port = resolve_port(probe["httpGet"].get("port"), ports)
        if probe_port != p.port:
            problems.append(
                f"{here}: {kind} probes port {probe_port}, but the process listens on "
                f"{p.describe(p.port_setting)} = {p.port}"
            )
    return problems


def check_service(
    p: Process, m: Manifests, labels: Mapping, ports: Mapping[str, int], where: str
) -> list[str]:
    service = m.get("Service", p.name)
    if service is None:
        return [f"{where}: no Service named {p.name} for the process {p.name}"]
    here = f"{where}: Service/{p.name}"
    problems = []
    if not service_selects(service, labels):
        problems.append(f"{here}: selector {service['spec'].get('selector')} misses its pods")
    service_ports = service["spec"].get("ports") or []
    if not any(
        sp.get("port") == p.port
        and resolve_port(sp.get("targetPort", sp.get("port")), ports) == p.port
        for sp in service_ports
    ):
        found = [(sp.get("port"), sp.get("targetPort")) for sp in service_ports]
        problems.append(
            f"{here}: (port, targetPort) {found} do not match "
            f"{p.describe(p.port_setting)} = {p.port}"
        )
    return problems


def secret_from_k8s(pod_spec: Mapping, container: Mapping, env: Mapping[str, EnvValue]):
    """(Secret, key) a secret setting's value comes from, by env var, for this container."""

    def lookup(var: str) -> tuple[str, str] | str | None:
        value = env.get(var)
        if value is None:
            return None
        if var.endswith("_FILE"):
            if value.value is None:
                return "not a path"
            return mounted_secret_file(pod_spec, container, value.value) or (
                f"{value.value} is not a file of a mounted Secret"
            )
        if value.source == "secret":
            return value.ref or "", value.key or ""
        return "a plain value, not a Secret"

    return lookup


def check_process_env(
    p: Process,
    processes: Sequence[Process],
    env: Mapping[str, EnvValue],
    here: str,
    secret_of,
    urls_from_secrets: bool = True,
) -> list[str]:
    problems = []
    owners = secret_owners(processes)
    for var, value in sorted(env.items()):
        setting = var.lower().removesuffix("_file")
        if setting in owners and p.name not in owners[setting]:
            who = ", ".join(sorted(owners[setting]))
            problems.append(f"{here}: gets {var}, a secret of {who} only")
        elif (
            var not in p.env_vars
            and not NON_SETTINGS_ENV.match(var)
            and value.source != "configmap"
        ):
            problems.append(f"{here}: sets {var}, which {p.settings.__name__} does not read")
    for var in sorted(p.required):
        if var not in env:
            why = (
                "it has no default"
                if var.lower() in p.fields and p.fields[var.lower()].default is dataclasses.MISSING
                else "its default points at this machine"
            )
            problems.append(f"{here}: {var} is not set ({p.settings.__name__}: {why})")
        elif (
            urls_from_secrets and var in DATASTORE_SETTINGS.values() and env[var].source != "secret"
        ):
            problems.append(f"{here}: {var} carries a password: take it from a Secret")
    for datastore, var in DATASTORE_SETTINGS.items():
        if var in env and datastore not in p.uses:
            problems.append(f"{here}: gets {var} but {p.name} does not use {datastore}")
    if all(var in env for var in p.required):
        # The settings class's own parsing and validation, on the values written here (secrets
        # and other values only known in the cluster are left out).
        literal = {k: v.value for k, v in env.items() if v.value is not None and k in p.env_vars}
        required = {f.name for f in p.fields.values() if f.default is dataclasses.MISSING}
        try:
            p.settings.from_env(
                literal, **{n: "(set)" for n in required if n.upper() not in literal}
            )
        except (ConfigError, ValueError, TypeError) as exc:
            problems.append(f"{here}: {p.settings.__name__} rejects these settings: {exc}")
    for secret in sorted(p.secrets):
        var = secret.upper()
        found = [secret_of(v) for v in (var, f"{var}_FILE") if v in env]
        if not found:
            problems.append(f"{here}: neither {var} nor {var}_FILE is set; {p.name} needs it")
        for result in found:
            if isinstance(result, str):
                problems.append(f"{here}: {var}: {result}")
    return problems


def check_addresses(
    p: Process, processes: Sequence[Process], env: Mapping[str, EnvValue], m: Manifests, here: str
) -> list[str]:
    problems = []
    for callee in callees(p, processes):
        var = grpc_addr_setting(callee.name)
        value = env.get(var)
        expected = f"{callee.name}:{callee.port}"
        if value is None or value.value is None:
            problems.append(
                f"{here}: {var} is not set; it must be {expected} (Service {callee.name})"
            )
            continue
        host, _, port = value.value.rpartition(":")
        if host.split(".")[0] != callee.name or port != str(callee.port):
            problems.append(f"{here}: {var}={value.value}, expected {expected}")
        elif m.get("Service", callee.name) is None:
            problems.append(f"{here}: {var} points at Service {callee.name}, which does not exist")
    return problems


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


@dataclass(frozen=True)
class Peer:
    """A possible source of traffic for the NetworkPolicy evaluation."""

    name: str
    pod_labels: Mapping[str, str]
    namespace_labels: Mapping[str, str] | None  # None: the application's own namespace


def _peer_matches(rule_peer: Mapping, source: Peer, own_ns: Mapping[str, str]) -> bool:
    if "ipBlock" in rule_peer:
        return source.namespace_labels is not None  # treat as "outside": never our own pods
    ns_labels = own_ns if source.namespace_labels is None else source.namespace_labels
    if "namespaceSelector" in rule_peer:
        if not selector_matches(rule_peer["namespaceSelector"], ns_labels):
            return False
    elif source.namespace_labels is not None:
        return False  # a bare podSelector means this namespace only
    return selector_matches(rule_peer.get("podSelector", {}), source.pod_labels)


def allowed_sources(
    m: Manifests, labels: Mapping[str, str], port: int, ports: Mapping[str, int], peers: list[Peer]
) -> set[str]:
    """The peers the NetworkPolicies of the namespace let reach a pod with `labels` on `port`."""
    own_ns = {"kubernetes.io/metadata.name": "ticketing"}
    policies = [
        np
        for np in m.of_kind("NetworkPolicy")
        if selector_matches(np["spec"].get("podSelector", {}), labels)
        and "Ingress" in (np["spec"].get("policyTypes") or ["Ingress"])
    ]
    if not policies:
        return {peer.name for peer in peers}
    allowed = set()
    for peer in peers:
        for np in policies:
            for rule in np["spec"].get("ingress") or []:
                rule_ports = rule.get("ports")
                if rule_ports and not any(
                    resolve_port(rp.get("port"), ports) in (port, None)
                    and rp.get("protocol", "TCP") == "TCP"
                    for rp in rule_ports
                ):
                    continue
                sources = rule.get("from")
                if not sources or any(_peer_matches(s, peer, own_ns) for s in sources):
                    allowed.add(peer.name)
    return allowed


def check_network_policies(processes: Sequence[Process], m: Manifests, where: str) -> list[str]:
    peers = [
        Peer(w["metadata"]["name"], pod_template(w)["metadata"].get("labels") or {}, None)
        for w in m.workloads()
    ]
    peers += [
        Peer("the ingress controller", INGRESS_CONTROLLER["pod"], INGRESS_CONTROLLER["namespace"]),
        Peer("any pod of another namespace", {}, {"kubernetes.io/metadata.name": "elsewhere"}),
        Peer("an unlabelled pod of the namespace", {}, None),
    ]
    problems = []
    targets: list[tuple[str, dict, int, dict, set[str]]] = []
    for p in processes:
        d = m.get("Deployment", p.name)
        if d is None:
            continue
        pod = pod_template(d)
        c = next((c for c in pod["spec"]["containers"] if c["name"] == p.name), None)
        expected = (
            {"the ingress controller"}
            if not p.grpc
            else {q.name for q in processes if p in callees(q, processes)}
        )
        targets.append(
            (p.name, pod["metadata"].get("labels") or {}, p.port, named_ports(c or {}), expected)
        )
    for store in DATASTORE_SETTINGS:
        s = m.get("StatefulSet", store) or m.get("Deployment", store)
        if s is None:
            continue
        pod = pod_template(s)
        c = pod["spec"]["containers"][0]
        port = (c.get("ports") or [{}])[0].get("containerPort")
        users = {p.name for p in processes if store in p.uses}
        targets.append((store, pod["metadata"].get("labels") or {}, port, named_ports(c), users))
    for name, labels, port, ports, expected in targets:
        allowed = allowed_sources(m, labels, port, ports, peers)
        if allowed - expected:
            problems.append(
                f"{where}: NetworkPolicy lets {', '.join(sorted(allowed - expected))} reach "
                f"{name}:{port}; only {', '.join(sorted(expected))} should"
            )
        if expected - allowed:
            problems.append(
                f"{where}: NetworkPolicy keeps {', '.join(sorted(expected - allowed))} from "
                f"reaching {name}:{port}"
            )
    return problems


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
        for rule in ing["spec"].get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = path["backend"].get("service") or {}
                routes[path["path"]] = (backend.get("name"), backend.get("port") or {})
    service = m.get("Service", gateway.name)
    service_ports = {
        sp.get("name"): sp["port"] for sp in (service or {"spec": {}})["spec"].get("ports") or []
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
    problems += check_config_maps(processes, m, where)
    problems += check_network_policies(processes, m, where)
    problems += check_ingress(processes, m, where, tls=overlay == "prod")
    for d in docs:
        if d["kind"] not in ("Namespace",) and not (d.get("metadata") or {}).get("namespace"):
            problems.append(
                f"{where}: {_name(d)} has no namespace (set `namespace:` in the overlay)"
            )
    images = {
        c["image"]
        for d in m.of_kind("Deployment")
        if d["metadata"]["name"] in {p.name for p in processes}
        for c in pod_template(d)["spec"]["containers"]
    }
    if len(images) > 1:
        problems.append(f"{where}: the processes run different images {sorted(images)}")
    if overlay == "prod":
        for image in images:
            tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else None
            if "@" not in image and tag in (None, "latest", "dev"):
                problems.append(f"{where}: image {image} has no release tag or digest")
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
    problems = check_base_is_namespace_agnostic(root)
    for overlay in overlays:
        problems += check_overlay(root, overlay, processes, versions)
    return problems


# ---------------------------------------------------------------- docker compose


def compose_config(root: Path) -> dict[str, Any]:
    out = _run(
        [_tool("docker-compose"), "-f", "docker-compose.yml", "config", "--format", "json"], root
    )
    return json.loads(out)


def check_compose(root: Path = ROOT, processes: Sequence[Process] | None = None) -> list[str]:
    processes = load_processes() if processes is None else processes
    where = "docker-compose.yml"
    try:
        config = compose_config(root)
    except CheckError as exc:
        return [f"{where}: {exc}"]
    services = config.get("services") or {}
    problems = []
    images = set()
    for p in processes:
        s = services.get(p.name)
        here = f"{where}: service {p.name}"
        if s is None:
            problems.append(f"{where}: no service {p.name} for the process {p.name} (SERVICES)")
            continue
        images.add(s.get("image"))
        if s.get("command") != [p.name] or s.get("entrypoint"):
            problems.append(
                f"{here}: runs {s.get('entrypoint')} {s.get('command')}, expected [{p.name!r}]"
            )
        env = {k: EnvValue("value", v) for k, v in (s.get("environment") or {}).items()}
        lookup = compose_secret_lookup(s, env)
        problems += check_process_env(p, processes, env, here, lookup, urls_from_secrets=False)
        for callee in callees(p, processes):
            var, expected = grpc_addr_setting(callee.name), f"{callee.name}:{callee.port}"
            if env.get(var, EnvValue("value")).value != expected:
                problems.append(f"{here}: {var} should be {expected}")
            if callee.name not in services:
                problems.append(f"{here}: {var} points at {callee.name}, which is not a service")
        override = env.get(p.port_setting.upper())
        if override and override.value != str(p.port):
            problems.append(f"{here}: sets {p.port_setting.upper()}={override.value} != {p.port}")
        test = (s.get("healthcheck") or {}).get("test") or []
        if not test or str(p.port) not in test[-1]:
            problems.append(
                f"{here}: healthcheck {test[-1:] or 'missing'} does not check port {p.port} "
                f"({p.describe(p.port_setting)})"
            )
    if len(images) > 1:
        problems.append(f"{where}: the processes run different images {sorted(images)}")
    owners = secret_owners(processes)
    private_volumes = {}
    for name, s in services.items():
        here = f"{where}: service {name}"
        for dep, how in (s.get("depends_on") or {}).items():
            if how.get("condition") not in ("service_healthy", "service_completed_successfully"):
                problems.append(f"{here}: depends_on {dep} without condition: service_healthy")
            target = services.get(dep) or {}
            if how.get("condition") == "service_healthy" and not target.get("healthcheck"):
                problems.append(
                    f"{here}: waits for {dep} to be healthy, but {dep} has no healthcheck"
                )
        by_name = {p.name: p for p in processes}
        allowed = COMPOSE_PUBLISHED.get(name, set())
        for port in s.get("ports") or []:
            target = int(port["target"])
            if allowed is None:  # a process: publish the port it listens on
                process = by_name.get(name)
                if process is not None and target != process.port:
                    problems.append(
                        f"{here}: publishes container port {target}, but {name} listens on "
                        f"{process.describe(process.port_setting)} = {process.port}"
                    )
            elif target not in allowed:
                problems.append(
                    f"{here}: publishes port {target}; only the gateway and the RabbitMQ UI "
                    "are published"
                )
        if name in {p.name for p in processes}:
            for setting, holders in owners.items():
                path = (s.get("environment") or {}).get(f"{setting.upper()}_FILE")
                if path and setting not in SHARED_SECRETS:
                    for v in s.get("volumes") or []:
                        if path.startswith(v["target"].rstrip("/") + "/"):
                            private_volumes[v["source"]] = holders
    for name, s in services.items():
        for v in s.get("volumes") or []:
            holders = private_volumes.get(v.get("source"))
            # A one-shot job (restart: "no", e.g. jwt-keys) may write it; no server may read it.
            if holders and name not in holders and s.get("restart") != "no":
                problems.append(
                    f"{where}: service {name} mounts volume {v['source']}, which holds a secret "
                    f"of {', '.join(sorted(holders))} only"
                )
    mongo = services.get("mongo")
    if mongo is not None and "--replSet" not in (mongo.get("command") or []):
        problems.append(f"{where}: mongo is not started as a replica set (--replSet)")
    for p in processes:
        url = ((services.get(p.name) or {}).get("environment") or {}).get("MONGO_URL")
        if url and "replicaSet=" not in url:
            problems.append(
                f"{where}: service {p.name}: MONGO_URL has no replicaSet= (transactions)"
            )
    return problems


def compose_secret_lookup(service: Mapping, env: Mapping[str, EnvValue]):
    def lookup(var: str) -> tuple[str, str] | str | None:
        value = env.get(var)
        if value is None:
            return None
        if var.endswith("_FILE"):
            for v in service.get("volumes") or []:
                if str(value.value).startswith(v["target"].rstrip("/") + "/"):
                    return v["source"], str(value.value)
            return f"{value.value} is not in a mounted volume"
        return "compose", var  # development values, inline

    return lookup


# ---------------------------------------------------------------- Dockerfile


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def lock_pin(root: Path, package: str) -> str | None:
    match = re.search(
        rf"^{re.escape(package)}==(\S+)", (root / "requirements-dev.lock").read_text(), re.M
    )
    return match.group(1) if match else None


def check_dockerfile(root: Path = ROOT, processes: Sequence[Process] | None = None) -> list[str]:
    processes = load_processes() if processes is None else processes
    problems = []
    for name, pins in (
        ("Dockerfile", {"GRPCIO_TOOLS_VERSION": "grpcio-tools"}),
        ("deploy/localstripe.Dockerfile", {"LOCALSTRIPE_VERSION": "localstripe"}),
    ):
        path = root / name
        if not path.exists():
            problems.append(f"{name}: missing")
            continue
        instructions = dockerfile_instructions(path.read_text())
        for keyword, rest in instructions:
            if keyword == "FROM":
                image = rest.split()[0]
                if "@sha256:" not in image and not re.search(r":\d+\.\d+\.\d+", image):
                    problems.append(f"{name}: FROM {image} is not pinned to a version")
            if keyword == "ARG":
                var, _, value = rest.partition("=")
                if var in pins and value != lock_pin(root, pins[var]):
                    problems.append(
                        f"{name}: ARG {var}={value}, but requirements-dev.lock pins "
                        f"{pins[var]}=={lock_pin(root, pins[var])}"
                    )
    instructions = dockerfile_instructions((root / "Dockerfile").read_text())
    stages = [i for i, (k, _) in enumerate(instructions) if k == "FROM"]
    final = instructions[stages[-1] :] if stages else []
    build = instructions[: stages[-1]] if stages else []
    final_text = " ".join(rest for _, rest in final)
    exposed = {int(p.split("/")[0]) for k, rest in final if k == "EXPOSE" for p in rest.split()}
    wanted = {p.port for p in processes}
    if exposed != wanted:
        problems.append(
            f"Dockerfile: EXPOSE {sorted(exposed)} differs from the processes' ports "
            f"{sorted(wanted)} (the *_port settings)"
        )
    entrypoints = [rest for k, rest in final if k == "ENTRYPOINT"]
    if not entrypoints or json.loads(entrypoints[-1]) != ["ticketing", "serve"]:
        problems.append(
            'Dockerfile: the final stage\'s ENTRYPOINT should be ["ticketing", "serve"]'
        )
    users = [rest for k, rest in final if k == "USER"]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        problems.append("Dockerfile: the final stage does not switch to a non-root USER")
    if "PYTHONUNBUFFERED=1" not in final_text:
        problems.append("Dockerfile: the final stage does not set PYTHONUNBUFFERED=1")
    for dev in ("requirements-dev.lock", "grpcio-tools", "secantus", "localstripe"):
        if dev in final_text:
            problems.append(f"Dockerfile: the final stage mentions {dev}; dev tools stay out")
    build_text = " ".join(rest for _, rest in build)
    if "requirements.lock" not in build_text or "--no-deps ." not in build_text:
        problems.append(
            "Dockerfile: the build stage should install requirements.lock, "
            "then the project with --no-deps"
        )
    if "grpc_tools.protoc" not in build_text:
        problems.append("Dockerfile: the build stage does not generate the gRPC stubs")
    ignore = root / ".dockerignore"
    if not ignore.exists():
        problems.append(".dockerignore: missing")
    else:
        for path in (".git", ".venv", "gen", ".run", "tests"):
            if not dockerignored(ignore.read_text(), path):
                problems.append(f".dockerignore: {path} is sent to the build")
        for package in ["common", *(p.package for p in processes)]:
            if dockerignored(ignore.read_text(), package):
                problems.append(f".dockerignore: the package {package} is kept out of the image")
    return problems


def dockerignored(patterns: str, path: str) -> bool:
    """Whether .dockerignore keeps a top-level `path` out (last matching pattern wins)."""
    import fnmatch

    ignored = False
    for line in patterns.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern):
            ignored = not negate
    return ignored


# ---------------------------------------------------------------- entry point


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


if __name__ == "__main__":
    sys.exit(main())
