"""docker-compose.yml against the processes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tools.deploy_check.identity import check_identity_compose
from tools.deploy_check.k8s_objects import EnvValue
from tools.deploy_check.k8s_processes import check_process_env
from tools.deploy_check.metrics import check_metrics_compose
from tools.deploy_check.model import (
    COMPOSE_PUBLISHED,
    ROOT,
    SHARED_SECRETS,
    STRIPE_STANDIN,
    STRIPE_STANDIN_PORT,
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
    builders = image_builders(services)
    problems = [
        *check_health_timing(services),
        *check_one_shots(services),
        *check_card_payments(services),
        *check_one_builder(services, builders),
        *check_identity_compose(processes, services),
    ]
    images: dict[str, set[str]] = {}
    for p in processes:
        s = services.get(p.name)
        here = f"{where}: service {p.name}"
        if s is None:
            problems.append(f"{where}: no service {p.name} for the process {p.name} (SERVICES)")
            continue
        images.setdefault(p.image_target, set()).add(s.get("image"))
        problems += check_image(p, s, builders, here)
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
    for target, names in images.items():
        if len(names) > 1:
            problems.append(
                f"{where}: the processes of the Dockerfile target {target} run different images "
                f"{sorted(names)}"
            )
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
                    f"{here}: publishes port {target}; only the gateway, the RabbitMQ UI, "
                    "the Stripe stand-in and the mail server's web view are published"
                )
            if port.get("host_ip") != "127.0.0.1":
                problems.append(
                    f"{here}: publishes port {target} on {port.get('host_ip') or 'every address'}"
                    "; publish it on 127.0.0.1 only (a development stack, throwaway credentials)"
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


def check_image(p: Process, service: Mapping, builders: Mapping[str, list], here: str) -> list[str]:
    """A process runs the image of its Dockerfile target: `ticketing` for the services,
    `ticketing-<extra>` for one that needs a pyproject extra (insights)."""
    image = str(service.get("image") or "")
    name = image.rsplit(":", 1)[0]
    if name != p.image:
        return [f"{here}: runs the image {name!r}, expected {p.image!r}"]
    built = builders.get(image)
    if not built:
        return [f"{here}: runs the image {image}, which no service builds"]
    return [
        f"{here}: its image {image} is built (by {builder}) from the Dockerfile target "
        f"{target!r}, expected {p.image_target!r}"
        for builder, target in built
        if target != p.image_target
    ]


def image_builders(services: Mapping[str, Mapping]) -> dict[str, list[tuple[str, str | None]]]:
    """Image -> the services that build it, each with its Dockerfile target."""
    builders: dict[str, list[tuple[str, str | None]]] = {}
    for name, s in services.items():
        if s.get("build"):
            builders.setdefault(str(s.get("image")), []).append((name, s["build"].get("target")))
    return builders


def check_one_builder(services: Mapping[str, Mapping], builders: Mapping[str, list]) -> list[str]:
    """Compose builds an image once for every service with a build section (in parallel, and
    without the cache each time when asked to), so exactly one service builds each; and no
    service tries to pull an image built here (no registry has it)."""
    problems = [
        f"docker-compose.yml: services {', '.join(sorted(n for n, _ in who))} all build the "
        f"image {image}; let one build it and the others only name it"
        for image, who in builders.items()
        if len(who) > 1
    ]
    problems += [
        f"docker-compose.yml: service {name}: its image {s.get('image')} is built here; set "
        "pull_policy: never, or compose asks a registry for it first"
        for name, s in services.items()
        if s.get("image") in builders and s.get("pull_policy") != "never"
    ]
    return problems


def check_one_shots(services: Mapping[str, Mapping]) -> list[str]:
    """`docker compose up --wait` fails when a container exits, even with 0, unless something
    waits for it to complete (docker/compose#10596): every one-shot (restart "no" or
    on-failure) must be depended on with service_completed_successfully."""
    problems = []
    for name, s in services.items():
        if str(s.get("restart") or "no").split(":")[0] not in ("no", "on-failure"):
            continue
        waited = [
            other
            for other, o in services.items()
            if ((o.get("depends_on") or {}).get(name) or {}).get("condition")
            == "service_completed_successfully"
        ]
        if not waited:
            problems.append(
                f"docker-compose.yml: service {name} is a one-shot (restart: "
                f"{s.get('restart') or 'no'}) that nothing depends on with condition "
                "service_completed_successfully, so `docker compose up --wait` exits 1 when it "
                "exits 0"
            )
    return problems


def check_card_payments(services: Mapping[str, Mapping]) -> list[str]:
    """The web app can take a card: the gateway's /config.json gives the browser a publishable
    key and a Stripe.js it can load -- the Stripe stand-in's, at the port compose publishes it
    on the host (the browser runs there, not on the compose network)."""
    gateway, standin = services.get("gateway"), services.get(STRIPE_STANDIN)
    if gateway is None or standin is None:
        return []
    here = "docker-compose.yml: service gateway"
    env = gateway.get("environment") or {}
    problems = []
    if not str(env.get("STRIPE_PUBLISHABLE_KEY") or "").startswith("pk_"):
        problems.append(
            f"{here}: STRIPE_PUBLISHABLE_KEY is not a publishable key (pk_...), so the web app "
            "says card payments are not available"
        )
    published = [p for p in standin.get("ports") or [] if int(p["target"]) == STRIPE_STANDIN_PORT]
    if not published:
        return [
            *problems,
            f"docker-compose.yml: service {STRIPE_STANDIN}: port {STRIPE_STANDIN_PORT} is not "
            "published, so the browser cannot load its Stripe.js",
        ]
    expected = f"http://127.0.0.1:{published[0]['published']}/js.stripe.com/v3/"
    if env.get("STRIPE_JS_URL") != expected:
        problems.append(
            f"{here}: STRIPE_JS_URL is {env.get('STRIPE_JS_URL')!r}, expected {expected!r} "
            "(the Stripe stand-in's Stripe.js, as the host's browser reaches it)"
        )
    return problems


def check_health_timing(services: Mapping[str, Mapping]) -> list[str]:
    """Health checks behave the same on every supported engine: start_interval is ignored by
    Docker Engine < 25 without a word (docs/deploying.md, Versions: the oldest supported engine)."""
    return [
        f"docker-compose.yml: service {name}: healthcheck start_interval is ignored by Docker "
        "Engine < 25, so the stack would start differently on the oldest supported engine; "
        "time health checks with interval and start_period"
        for name, s in services.items()
        if "start_interval" in (s.get("healthcheck") or {})
    ]


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
