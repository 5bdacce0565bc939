"""Each process's Deployment, Service, probes and settings in a rendered overlay."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from common.settings import ConfigError
from tools.deploy_check.k8s_objects import (
    EnvValue,
    Manifests,
    container_env,
    mounted_secret_file,
    named_ports,
    pod_template,
    resolve_port,
    selector_matches,
    service_selects,
)
from tools.deploy_check.k8s_scaling import check_scaling
from tools.deploy_check.k8s_workers import check_workers
from tools.deploy_check.metrics import check_metrics_k8s
from tools.deploy_check.model import (
    DATASTORE_SETTINGS,
    NON_SETTINGS_ENV,
    PRE_STOP_MARGIN_SECONDS,
    Process,
    _secret_pairs,
    callees,
    grpc_addr_setting,
    secret_owners,
)

# ---------------------------------------------------------------- Kubernetes: the processes


def check_process_k8s(
    p: Process, processes: Sequence[Process], m: Manifests, where: str
) -> list[str]:
    problems: list[str] = []
    deployment = m.get("Deployment", p.name)
    if deployment is None:
        return [
            f"{where}: no Deployment named {p.name} for the process {p.name} "
            "(common.processes.SERVICES)"
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
    problems += check_metrics_k8s(p, pod, c, env, here)
    problems += check_service(p, m, labels, ports, where)

    # Settings: what the process needs is set, and nothing it does not read.
    problems += check_process_env(p, processes, env, here, secret_from_k8s(spec, c, env))
    problems += check_addresses(p, processes, env, m, here)
    problems += check_workers(p, c, env, here)

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

    # Scaling: an autoscaler owns the replica count (one writer excepted), a disruption budget
    # guards it.
    problems += check_scaling(p, deployment, c, env, m, where)
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
        if probe_port != p.probe_port:
            problems.append(
                f"{here}: {kind} probes port {probe_port}, but the process answers probes on "
                f"{p.describe(p.probe_port_setting)} = {p.probe_port}"
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
    if p.grpc and service["spec"].get("clusterIP") != "None":
        problems.append(
            f"{here}: not headless (clusterIP: None): its one virtual IP would give the callers' "
            "round_robin one address, and every call of a connection would go to one pod"
        )
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
                if var.lower() in p.fields and p.fields[var.lower()].is_required()
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
        # A file's path is the cluster's (the class would read the file at load).
        files = {f"{name.upper()}_FILE" for name in _secret_pairs(p.fields)}
        literal = {
            k: v.value
            for k, v in env.items()
            if v.value is not None and k in p.env_vars and k not in files
        }
        required = {name for name, f in p.fields.items() if f.is_required()}
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


def split_target(target: str) -> tuple[str | None, str, str]:
    """(scheme, host, port) of a gRPC target: `dns:///tickets:50052`, `dns://ns/tickets:50052`,
    `tickets:50052` (no scheme)."""
    scheme = None
    if "://" in target:
        scheme, _, rest = target.partition("://")
        target = rest.split("/", 1)[1] if "/" in rest else rest
    host, _, port = target.rpartition(":")
    return scheme, host, port


def check_addresses(
    p: Process, processes: Sequence[Process], env: Mapping[str, EnvValue], m: Manifests, here: str
) -> list[str]:
    """Each service a process calls is reached by a dns:/// target naming its headless Service:
    the channel's round_robin balances over every ready pod the name resolves to."""
    problems = []
    for callee in callees(p, processes):
        var = grpc_addr_setting(callee.name)
        value = env.get(var)
        expected = f"dns:///{callee.name}:{callee.port}"
        if value is None or value.value is None:
            problems.append(
                f"{here}: {var} is not set; it must be {expected} (Service {callee.name})"
            )
            continue
        scheme, host, port = split_target(value.value)
        if host.split(".")[0] != callee.name or port != str(callee.port):
            problems.append(f"{here}: {var}={value.value}, expected {expected}")
        elif scheme != "dns":
            problems.append(
                f"{here}: {var}={value.value} is not a dns:/// target; expected {expected} (the "
                "channel balances over the addresses its resolver returns)"
            )
        elif m.get("Service", callee.name) is None:
            problems.append(f"{here}: {var} points at Service {callee.name}, which does not exist")
    return problems
