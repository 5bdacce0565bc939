"""pod-check (tools/pod_check/) on the real rendered overlays, without Docker: what each pod
would start with, and the Secrets the recipe of docs/deploying.md makes. `make pod-check` runs
the pods."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import deploy_check as dc
from tools.pod_check import docker_args, env
from tools.pod_check.check import check_service_ports, load_overlay
from tools.pod_check.model import Overlay, Secrets
from tools.pod_check.mutants import broken_copies
from tools.pod_check.secrets import documented_secrets

PROCESSES = {p.name: p for p in dc.load_processes()}


@pytest.fixture(scope="module")
def overlays() -> dict[str, Overlay]:
    return {name: load_overlay(dc.ROOT, name) for name in dc.OVERLAYS}


@pytest.fixture(scope="module")
def secrets() -> Secrets:
    return documented_secrets(dc.ROOT)


def test_no_variable_the_kubelet_injects_is_a_setting(overlays: dict[str, Overlay]) -> None:
    """The kubelet adds Docker-links variables for the namespace's Services (AUTH_PORT=
    tcp://10.96.0.12:50051, GATEWAY_PORT=...) unless a pod says enableServiceLinks: false;
    each process would then read AUTH_PORT etc. as its settings and refuse to start."""
    clashes = []
    for name, overlay in overlays.items():
        for workload in overlay.workloads("Deployment"):
            process = PROCESSES[workload.name]
            injected = env.service_links(overlay, workload.spec.get("enableServiceLinks", True))
            clash = sorted(set(injected) & process.env_vars)
            if clash:
                clashes.append(f"{name}: {workload.title} would get {', '.join(clash)}")
    assert not clashes, "\n".join(clashes)


def test_every_secret_key_the_pods_read_is_made_by_the_readme(
    overlays: dict[str, Overlay], secrets: Secrets
) -> None:
    overlay = overlays["dev"]
    for kind in ("Deployment", "StatefulSet"):
        for workload in overlay.workloads(kind):
            for container in [
                *workload.spec.get("initContainers", []),
                *workload.spec["containers"],
            ]:
                environment = env.container_env(workload, container, overlay, secrets, "10.1.2.3")
                assert environment, workload.title
            docker_args.volume_plans(workload, overlay, secrets, "podcheck-test")


def test_the_dev_datastore_urls_name_the_pods_of_the_overlay(
    overlays: dict[str, Overlay], secrets: Secrets
) -> None:
    """The URLs docs/deploying.md puts in ticketing-datastores reach the datastores' pods by the DNS
    names the dev overlay gives them (pod-check's network aliases)."""
    aliases = {a for w in overlays["dev"].workloads("StatefulSet") for a in w.aliases}
    urls = secrets.data["ticketing-datastores"]
    assert b"@mongo-0.mongo:27017/" in urls["mongo-url"] and "mongo-0.mongo" in aliases
    assert b"@rabbitmq:5672/" in urls["amqp-url"] and "rabbitmq" in aliases
    assert b"@redis:6379/" in urls["redis-url"] and "redis" in aliases


def test_a_recipe_without_a_key_fails_the_pod_that_reads_it(
    overlays: dict[str, Overlay], tmp_path: Path
) -> None:
    page = (dc.ROOT / "docs" / "deploying.md").read_text()
    broken = page.replace(
        ' \\\n    --from-literal=redis-url="redis://:$REDIS_PASSWORD@redis:6379/0"', ""
    )
    assert broken != page
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "deploying.md").write_text(broken)
    secrets = documented_secrets(tmp_path)
    overlay = overlays["dev"]
    gateway = next(w for w in overlay.workloads("Deployment") if w.name == "gateway")
    with pytest.raises(Exception, match="Secret ticketing-datastores has no key redis-url"):
        env.container_env(gateway, gateway.spec["containers"][0], overlay, secrets, "10.1.2.3")


def test_the_gateway_runs_as_its_spec_says(overlays: dict[str, Overlay], secrets: Secrets) -> None:
    overlay = overlays["dev"]
    gateway = next(w for w in overlay.workloads("Deployment") if w.name == "gateway")
    container = gateway.spec["containers"][0]
    volumes = docker_args.volume_plans(gateway, overlay, secrets, "podcheck-x-gateway")
    args = docker_args.container_args(
        gateway,
        container,
        docker_name="podcheck-x-gateway-gateway",
        sandbox="podcheck-x-gateway",
        image_user="10001:10001",
        env={},
        command=None,
        args=container["args"],
        volumes=volumes,
        labels={},
    )
    line = " ".join(args)
    assert "--user 10001:10001 --group-add 10001" in line
    assert "--read-only" in args and "--cap-drop ALL" in line
    assert "--security-opt no-new-privileges" in line and "seccomp=unconfined" not in line
    assert f"--memory {512 * 2**20} --memory-swap {512 * 2**20} --cpus 2" in line
    assert "dst=/tmp,volume-nocopy" in line
    assert "dst=/var/run/secrets/ticketing/jwt-public,volume-nocopy,readonly" in line
    assert args[-2:] == ["ticketing:dev", "gateway"]
    assert (
        "gateway" in gateway.aliases
        and "gateway.ticketing-dev.svc.cluster.local" in gateway.aliases
    )


def test_services_target_their_own_ports(overlays: dict[str, Overlay]) -> None:
    for overlay in overlays.values():
        check_service_ports(overlay)


def test_broken_copies_join_no_service(overlays: dict[str, Overlay]) -> None:
    copies = broken_copies(overlays["dev"].workloads("Deployment"))
    assert [c.name for c in copies] == ["gateway-no-tmp", "tickets-wrong-port", "auth-small-memory"]
    for copy in copies:
        assert copy.aliases == () and copy.expected_failure
    no_tmp = copies[0].spec
    assert all(m["mountPath"] != "/tmp" for m in no_tmp["containers"][0]["volumeMounts"])
    assert "tmp" not in {v["name"] for v in no_tmp["volumes"]}
    small = copies[2].spec["containers"][0]["resources"]
    assert small["limits"]["memory"] == small["requests"]["memory"] == "24Mi"
