"""Where Prometheus scrapes each process, held against the code: the metrics port setting's default
(`<service>_metrics_port`; the gateway serves /metrics on its own port), the pod's containerPort
and `prometheus.io/*` annotations, docker compose's `expose`, and that /metrics stays inside the
cluster (no Ingress path reaches it). The NetworkPolicy side (Prometheus admitted to the metrics
ports, and only there) is evaluated with the other policies in k8s_overlays."""

from __future__ import annotations

from collections.abc import Mapping

from tools.deploy_check.k8s_objects import EnvValue, Manifests, _name
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
    """A service's metrics port is exposed on the compose network (the gateway's is its port)."""
    problems = _override(p, env, here)
    if p.grpc:
        exposed = [str(x).split("/")[0] for x in service.get("expose") or []]
        if str(p.metrics_port) not in exposed:
            problems.append(
                f"{here}: expose {exposed} lacks the metrics port "
                f"{p.describe(p.metrics_port_setting)} = {p.metrics_port}"
            )
    return problems


def check_metrics_not_public(m: Manifests, where: str) -> list[str]:
    """/metrics is for Prometheus inside the cluster: no Ingress path may lead to it."""
    problems = []
    for ing in m.of_kind("Ingress"):
        for rule in ing["spec"].get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                route = path.get("path") or "/"
                exact = path.get("pathType") == "Exact"
                reaches = route == METRICS_PATH if exact else _prefix_of(route, METRICS_PATH)
                if reaches:
                    problems.append(
                        f"{where}: {_name(ing)} routes {route} ({path.get('pathType')}), which "
                        f"publishes {METRICS_PATH}; keep it inside the cluster"
                    )
    return problems


def _prefix_of(route: str, path: str) -> bool:
    """Whether an Ingress Prefix path matches `path` (by whole path elements)."""
    route = route.rstrip("/")
    return route == "" or path == route or path.startswith(route + "/")
