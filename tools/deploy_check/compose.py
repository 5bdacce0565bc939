"""docker-compose.yml against the processes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tools.deploy_check.k8s_objects import EnvValue
from tools.deploy_check.k8s_processes import check_process_env
from tools.deploy_check.metrics import check_metrics_compose
from tools.deploy_check.model import (
    COMPOSE_PUBLISHED,
    ROOT,
    SHARED_SECRETS,
    CheckError,
    Process,
    callees,
    grpc_addr_setting,
    load_processes,
    secret_owners,
)
from tools.deploy_check.render import _run, _tool

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
        problems += check_metrics_compose(p, s, env, here)
        override = env.get(p.port_setting.upper())
        if override and override.value != str(p.port):
            problems.append(f"{here}: sets {p.port_setting.upper()}={override.value} != {p.port}")
        test = (s.get("healthcheck") or {}).get("test") or []
        if not test or str(p.probe_port) not in test[-1]:
            problems.append(
                f"{here}: healthcheck {test[-1:] or 'missing'} does not check port "
                f"{p.probe_port} ({p.describe(p.probe_port_setting)})"
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
