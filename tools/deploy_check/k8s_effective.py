"""What each overlay must come out as after kustomize has merged base and overlay, whatever the
files that make it say: the settings every process sees (from its rendered Deployment: the
ConfigMap it loads and its own env), and the replica floors. A generator or patch that a later
key replaced, a merge that did not happen, a base change an overlay did not expect: each shows
here as a value that differs from this table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tools.deploy_check.k8s_objects import Manifests, container_env, pod_template
from tools.deploy_check.model import Process

# Per overlay: setting -> the value every process that reads it must get. Production keeps the
# production rate limits in both (`ticketing run` is the one with developer-friendly ones).
_PRODUCTION_LIMITS = {
    "SIGNIN_ACCOUNT_LIMIT": "10",
    "SIGNIN_DEVICE_LIMIT": "10",
    "SIGNIN_ADDRESS_LIMIT": "50",
    "SIGNUP_ADDRESS_LIMIT": "10",
    "GRAPHQL_USER_LIMIT": "600",
    "GRAPHQL_VISITOR_LIMIT": "120",
    "GRAPHQL_ADDRESS_LIMIT": "1200",
}
EFFECTIVE_SETTINGS: dict[str, dict[str, str]] = {
    "dev": {
        "LOG_LEVEL": "DEBUG",
        "COOKIE_SECURE": "false",  # the dev ingress serves plain HTTP
        "GRAPHQL_INTROSPECTION": "true",
        "GRAPHQL_IDE": "true",
        "GRAPHQL_PERSISTED_QUERIES": "apq",
        # Session tokens bound to this deployment: another overlay's are refused (each differs).
        "JWT_ISSUER": "urn:ticketing:dev",
        "JWT_AUDIENCE": "urn:ticketing:dev:api",
        # The base's: every private range (the dev cluster's pod CIDR is not known here).
        "TRUSTED_PROXIES": "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7",
        **_PRODUCTION_LIMITS,
    },
    "prod": {
        "LOG_LEVEL": "INFO",
        "COOKIE_SECURE": "true",
        "GRAPHQL_INTROSPECTION": "false",
        "GRAPHQL_IDE": "false",
        # Only the web app's and registered clients' operations run (docs/api.md PQ-3).
        "GRAPHQL_PERSISTED_QUERIES": "allowlist",
        "JWT_ISSUER": "urn:ticketing:prod",
        "JWT_AUDIENCE": "urn:ticketing:prod:api",
        # Only the ingress controller's pod network may name the client (X-Forwarded-For).
        "TRUSTED_PROXIES": "10.0.0.0/8",
        "TICKET_CACHE_ENABLED": "true",
        **_PRODUCTION_LIMITS,
    },
}
# Per overlay: HorizontalPodAutoscaler -> (minReplicas, maxReplicas); "*": every other one.
EFFECTIVE_REPLICAS: dict[str, dict[str, tuple[int, int]]] = {
    "dev": {"*": (1, 3)},
    "prod": {"gateway": (3, 20), "*": (2, 6)},
}


def check_effective_settings(
    processes: Sequence[Process],
    m: Manifests,
    where: str,
    expected: Mapping[str, str],
) -> list[str]:
    problems = []
    for var, value in sorted(expected.items()):
        readers = [p for p in processes if var in p.env_vars]
        if not readers:
            problems.append(
                f"{where}: the table of effective settings names {var}; no process reads it"
            )
        for p in readers:
            deployment = m.get("Deployment", p.name)
            if deployment is None:
                continue  # reported by the process checks
            container = next(
                (c for c in pod_template(deployment)["spec"]["containers"] if c["name"] == p.name),
                None,
            )
            if container is None:
                continue
            env, _ = container_env(container, m, "")
            found = env.get(var)
            if found is None:
                problems.append(
                    f"{where}: Deployment/{p.name}: {var} is not set, expected {value!r} "
                    "(the code's default would apply)"
                )
            elif found.value != value:
                shown = repr(found.value) if found.value is not None else f"from {found.source}"
                problems.append(
                    f"{where}: Deployment/{p.name}: {var} is {shown} after rendering, "
                    f"expected {value!r}"
                )
    return problems


def check_effective_replicas(
    m: Manifests, where: str, expected: Mapping[str, tuple[int, int]]
) -> list[str]:
    problems = []
    for hpa in m.of_kind("HorizontalPodAutoscaler"):
        name = hpa["metadata"]["name"]
        want = expected.get(name, expected.get("*"))
        if want is None:
            continue
        found = (hpa["spec"].get("minReplicas", 1), hpa["spec"]["maxReplicas"])
        if found != want:
            problems.append(
                f"{where}: HorizontalPodAutoscaler/{name}: replicas {found[0]}..{found[1]} "
                f"after rendering, expected {want[0]}..{want[1]}"
            )
    return problems


def check_effective(processes: Sequence[Process], m: Manifests, overlay: str) -> list[str]:
    where = f"k8s/overlays/{overlay}"
    return [
        *check_effective_settings(processes, m, where, EFFECTIVE_SETTINGS.get(overlay, {})),
        *check_effective_replicas(m, where, EFFECTIVE_REPLICAS.get(overlay, {})),
    ]
