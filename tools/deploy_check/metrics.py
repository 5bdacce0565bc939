"""Where Prometheus scrapes each process, held against the code: the metrics port setting's default
(`<service>_metrics_port`; the gateway's `gateway_admin_port`, beside its probes), the pod's
containerPort and `prometheus.io/*` annotations, docker compose's `expose`, and that /metrics
stays inside the cluster (no Ingress backend reaches a metrics port). The NetworkPolicy side
(Prometheus admitted to the metrics ports, and only there) is evaluated with the other policies
in k8s_overlays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tools.deploy_check.k8s_objects import (
    EnvValue,
    Manifests,
    _name,
    named_ports,
    pod_template,
    service_selects,
)
from tools.deploy_check.model import METRICS_PATH, Process


def _override(p: Process, env: Mapping[str, EnvValue], here: str) -> list[str]:
    var = p.metrics_port_setting.upper()
    value = env.get(var)
    if value is not None and value.value is not None and value.value != str(p.metrics_port):
        return [
            f"{here}: sets {var}={value.value}, but the scrape configuration is written for "
            f"{p.describe(p.metrics_port_setting)} = {p.metrics_port}"
        ]
    return []


def check_metrics_k8s(
    p: Process, pod: Mapping, container: Mapping, env: Mapping[str, EnvValue], here: str
) -> list[str]:
    """The pod template says where to scrape, and that is where the process serves /metrics."""
    problems = _override(p, env, here)
    port = p.metrics_port
    container_ports = [x["containerPort"] for x in container.get("ports") or []]
    if port not in container_ports:
        problems.append(
            f"{here}: no containerPort {port} for metrics "
            f"({p.describe(p.metrics_port_setting)}); it has {container_ports}"
        )
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    expected = {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": METRICS_PATH,
    }
    for key, value in expected.items():
        found = annotations.get(key)
        if found != value:
            problems.append(
                f"{here}: pod annotation {key}={found!r}, expected {value!r} "
                f"(metrics: {p.describe(p.metrics_port_setting)} = {port}, GET {METRICS_PATH})"
            )
    return problems


def check_metrics_compose(
    p: Process, service: Mapping, env: Mapping[str, EnvValue], here: str
) -> list[str]:
    """A process's metrics port (the gateway's admin port) is exposed on the compose network."""
    problems = _override(p, env, here)
    exposed = [str(x).split("/")[0] for x in service.get("expose") or []]
    if str(p.metrics_port) not in exposed:
        problems.append(
            f"{here}: expose {exposed} lacks the metrics port "
            f"{p.describe(p.metrics_port_setting)} = {p.metrics_port}"
        )
    return problems


def check_metrics_not_public(processes: Sequence[Process], m: Manifests, where: str) -> list[str]:
    """/metrics (and the gateway's probes) are for Prometheus and the kubelet inside the cluster:
    no Ingress path may lead to a metrics port, whatever its path (the gateway's public port
    answers neither, so the Ingress may route all of it)."""
    metrics_ports = {p.metrics_port: p for p in processes}
    problems = []
    for ing in m.of_kind("Ingress"):
        for rule in ing["spec"].get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = (path.get("backend") or {}).get("service") or {}
                target = _target_port(m, backend.get("name"), backend.get("port") or {})
                if target in metrics_ports:
                    p = metrics_ports[target]
                    problems.append(
                        f"{where}: {_name(ing)} routes {path.get('path')} to Service "
                        f"{backend.get('name')}, port {target}: that is "
                        f"{p.describe(p.metrics_port_setting)}, which publishes {METRICS_PATH}; "
                        "keep it inside the cluster"
                    )
    return problems


def _target_port(m: Manifests, service_name: str | None, port: Mapping) -> int | None:
    """The container port an Ingress backend (Service, port number or name) ends up at."""
    service = m.get("Service", service_name) if service_name else None
    if service is None:
        return None
    for sp in service["spec"].get("ports") or []:
        if sp["port"] == port.get("number") or (
            port.get("name") and sp.get("name") == port["name"]
        ):
            target = sp.get("targetPort", sp["port"])
            if isinstance(target, int):
                return target
            for pod in m.workloads():
                if service_selects(service, pod_template(pod)["metadata"].get("labels") or {}):
                    for c in pod_template(pod)["spec"]["containers"]:
                        found = named_ports(c).get(target)
                        if found is not None:
                            return found
    return None
