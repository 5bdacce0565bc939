"""The image, docker compose and Kubernetes manifests, held against the code: every process in
common.processes.SERVICES is deployed with its port, probes, scaling and the settings it reads.

Nothing here needs Docker or a cluster: the checks are static (tools/deploy_check/). This
repository's own files pass them in `make lint` (lint-deploy), once per `make test`; here, the
tables the checks read are held to the code, and copies of the files, broken, must be reported
with a problem that names what is wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from common.processes import SERVICES
from svc_tickets.config import TicketsSettings
from tests.deploy.edits import PROCESSES, edit, k8s_report
from tools import deploy_check as dc

ROOT = dc.ROOT


@pytest.fixture(scope="module")
def rendered() -> dict[str, dc.Manifests]:
    return {o: dc.Manifests(dc.render_overlay(ROOT, o)) for o in dc.OVERLAYS}


# ------------------------------------------------ the checks' tables, and facts lint does not check


def test_processes_come_from_the_code() -> None:
    assert [p.name for p in PROCESSES] == [s.name for s in SERVICES]
    ports = {p.name: p.port for p in PROCESSES}
    assert ports["gateway"] == 8000
    assert sorted(p.port for p in PROCESSES if p.grpc) == [
        50051,
        50052,
        50053,
        50054,
        50055,
        50056,
        50057,
        50058,
        50059,
    ]
    metrics = {p.name: p.metrics_port for p in PROCESSES}
    assert metrics["gateway"] == 9100  # /metrics on its admin port, with its probes
    assert sorted(metrics[p.name] for p in PROCESSES if p.grpc) == [
        9101,
        9102,
        9103,
        9104,
        9105,
        9106,
        9107,
        9108,
        9109,
    ]
    assert "jwt_private_key" in next(p for p in PROCESSES if p.name == "auth").secrets
    assert "jwt_private_key" not in next(p for p in PROCESSES if p.name == "orders").secrets


@pytest.mark.parametrize("process", [p for p in PROCESSES if p.grpc], ids=lambda p: p.name)
def test_the_datastore_table_agrees_with_the_code(process: dc.Process) -> None:
    """deploy_check.USES says who gets MONGO_URL; bootstrap.py says who opens a database."""
    bootstrap = ROOT / process.package / "bootstrap.py"
    assert bootstrap.exists(), f"{process.package} has no bootstrap.py"
    without_database = "with_database=False" in bootstrap.read_text()
    assert ("mongo" not in process.uses) == without_database, (
        f"{process.name}: update USES in tools/deploy_check/model.py"
    )


def test_dev_runs_the_datastores_and_prod_does_not(rendered) -> None:
    for store in ("mongo", "rabbitmq", "redis"):
        s = rendered["dev"].get("StatefulSet", store)
        assert s is not None and s["spec"]["volumeClaimTemplates"], store
        assert rendered["prod"].get("StatefulSet", store) is None, store
    mongo = dc.pod_template(rendered["dev"].get("StatefulSet", "mongo"))["spec"]["containers"][0]
    assert "--replSet" in mongo["args"]


def test_only_auth_holds_the_jwt_private_key(rendered) -> None:
    for overlay, m in rendered.items():
        for d in m.of_kind("Deployment"):
            spec = dc.pod_template(d)["spec"]
            secrets = {v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v}
            env = {e["name"] for c in spec["containers"] for e in c.get("env") or []}
            holds = "jwt-private-key" in secrets or "JWT_PRIVATE_KEY_FILE" in env
            assert holds == (d["metadata"]["name"] == "auth"), (overlay, d["metadata"]["name"])


# ---------------------------------------------------------------- breaking things is caught


def test_broken_manifests_are_reported_by_name(repo_copy: Path) -> None:
    base = repo_copy / "k8s" / "base"
    edit(
        base / "auth.yaml",
        "  revisionHistoryLimit: 5\n",
        "  revisionHistoryLimit: 5\n  replica: 2\n",
    )
    edit(base / "tickets.yaml", "containerPort: 50052", "containerPort: 50059")
    edit(
        base / "orders.yaml",
        "          readinessProbe:\n            grpc: {port: 50053}\n",
        "          unusedProbe:\n            grpc: {port: 50053}\n",
    )
    report = k8s_report(repo_copy)
    assert (
        "Deployment/auth: not valid Kubernetes" in report and "'replica' was unexpected" in report
    ), report
    assert (
        "Deployment/tickets: containerPort [50059, 9102] does not match "
        "TicketsSettings.tickets_port = 50052" in report
    ), report
    assert "Deployment/orders: has no readinessProbe" in report, report


def test_ports_that_disagree_are_reported(repo_copy: Path) -> None:
    base = repo_copy / "k8s" / "base"
    edit(
        base / "payments.yaml",
        "            grpc: {port: 50054}\n",
        "            grpc: {port: 50099}\n",
    )
    edit(
        base / "gateway.yaml",
        "      port: 8000\n      targetPort: 8000",
        "      port: 80\n      targetPort: 8080",
    )
    edit(
        base / "kustomization.yaml",
        "ORDERS_ADDR=dns:///orders:50053",
        "ORDERS_ADDR=dns:///orders:50056",
    )
    report = k8s_report(repo_copy)
    assert "Deployment/payments: startupProbe probes port 50099" in report, report
    assert "Service/gateway: (port, targetPort) [(80, 8080)] do not match" in report, report
    assert "ORDERS_ADDR=dns:///orders:50056, expected dns:///orders:50053" in report, report


def test_gateway_probes_on_the_dependency_report_are_reported(repo_copy: Path) -> None:
    gateway = repo_copy / "k8s" / "base" / "gateway.yaml"
    edit(
        gateway,
        "            httpGet: {path: /readyz, port: admin}",
        "            httpGet: {path: /healthz/deps, port: admin}",
    )
    edit(
        gateway,
        "          startupProbe:\n            httpGet: {path: /healthz,",
        "          startupProbe:\n            httpGet: {path: /healthz/deps,",
    )
    report = k8s_report(repo_copy)
    assert "Deployment/gateway: readinessProbe asks /healthz/deps, expected /readyz" in report
    assert "Deployment/gateway: startupProbe asks /healthz/deps, expected /healthz" in report
    # The public port answers no probe (gateway/admin.py).
    edit(gateway, "httpGet: {path: /healthz, port: admin}", "httpGet: {path: /healthz, port: http}")
    report = k8s_report(repo_copy)
    assert (
        "Deployment/gateway: livenessProbe probes port 8000, but the process answers probes on "
        "GatewaySettings.gateway_admin_port = 9100" in report
    ), report


def test_gateway_workers_beyond_the_pods_cpu_or_memory_are_reported(repo_copy: Path) -> None:
    gateway = repo_copy / "k8s" / "base" / "gateway.yaml"
    edit(
        gateway,
        '- name: GATEWAY_WORKERS\n              value: "0"',
        '- name: GATEWAY_WORKERS\n              value: "4"',
    )
    report = k8s_report(repo_copy)
    assert "Deployment/gateway: GATEWAY_WORKERS=4 but limits.cpu 2 allows 2" in report, report
    edit(
        gateway,
        '- name: GATEWAY_WORKERS\n              value: "4"',
        '- name: GATEWAY_WORKERS\n              value: "0"',
    )
    edit(gateway, 'limits: {cpu: "2", memory: 512Mi}', 'limits: {cpu: "3", memory: 300Mi}')
    report = k8s_report(repo_copy)
    assert (
        "Deployment/gateway: limits.memory 300Mi is too little for 3 worker(s) "
        "(GATEWAY_WORKERS=0, limits.cpu 3): 448Mi needed" in report
    ), report


def test_settings_that_are_missing_or_misspelt_are_reported(repo_copy: Path) -> None:
    base = repo_copy / "k8s" / "base"
    edit(base / "kustomization.yaml", "ORDER_EXPIRATION_SECONDS=900", "ORDER_EXPIRY_SECONDS=900")
    edit(
        base / "payments.yaml",
        "            - name: STRIPE_SECRET_KEY_FILE\n",
        "            - name: STRIPE_KEY_FILE\n",
    )
    edit(
        base / "expiration.yaml",
        "            - name: REDIS_URL\n              valueFrom:\n"
        "                secretKeyRef: {name: ticketing-datastores, key: redis-url}\n",
        "",
    )
    report = k8s_report(repo_copy)
    assert (
        "ConfigMap/ticketing-config" in report and "no process reads ORDER_EXPIRY_SECONDS" in report
    )
    assert (
        "Deployment/payments: sets STRIPE_KEY_FILE, which PaymentsSettings does not read" in report
    )
    assert "neither STRIPE_SECRET_KEY nor STRIPE_SECRET_KEY_FILE is set" in report, report
    assert "Deployment/expiration: REDIS_URL is not set" in report, report


def test_values_the_settings_class_rejects_are_reported(repo_copy: Path) -> None:
    kustomization = repo_copy / "k8s" / "base" / "kustomization.yaml"
    edit(kustomization, "ORDER_EXPIRATION_SECONDS=900", "ORDER_EXPIRATION_SECONDS=0")
    report = k8s_report(repo_copy)
    assert (
        "Deployment/orders: OrdersSettings rejects these settings: "
        "ORDER_EXPIRATION_SECONDS must be between 1 and 86400" in report
    ), report
    edit(kustomization, "SHUTDOWN_GRACE_SECONDS=10", "SHUTDOWN_GRACE_SECONDS=ten")
    report = k8s_report(repo_copy)
    assert "Deployment/gateway: GatewaySettings rejects these settings: " in report, report
    assert "SHUTDOWN_GRACE_SECONDS must be a number, got 'ten'" in report, report


def test_a_leaked_private_key_and_an_open_network_are_reported(repo_copy: Path) -> None:
    base = repo_copy / "k8s" / "base"
    tickets = (base / "tickets.yaml").read_text()
    tickets = tickets.replace(
        "            - {name: jwt-public, mountPath: /var/run/secrets/ticketing/jwt-public, "
        "readOnly: true}\n",
        "            - {name: jwt-public, mountPath: /var/run/secrets/ticketing/jwt-public, "
        "readOnly: true}\n            - {name: leak, mountPath: /leak, readOnly: true}\n",
    ).replace(
        "        - name: tmp\n",
        "        - name: leak\n          secret: {secretName: jwt-private-key}\n"
        "        - name: tmp\n",
    )
    (base / "tickets.yaml").write_text(tickets)
    edit(
        base / "orders.yaml",
        "        - podSelector:\n            matchLabels:\n"
        "              app.kubernetes.io/name: gateway",
        "        - podSelector: {}",
    )
    report = k8s_report(repo_copy)
    assert "Deployment/tickets uses Secret jwt-private-key, which only auth may" in report, report
    assert (
        "NetworkPolicy lets" in report
        and "reach orders:50053; only gateway, payments should" in report
    )


def test_a_service_or_setting_that_is_not_deployed_fails(repo_copy: Path) -> None:
    class ReviewsSettings(TicketsSettings):
        reviews_port: int = 50060
        reviews_metrics_port: int = 9110

    class StricterTicketsSettings(TicketsSettings):
        fraud_api_url: str
        fraud_callback: str = "http://127.0.0.1:9000"

    reviews = dc.Process("reviews", ReviewsSettings, True, "svc_reviews")
    processes = [
        dc.Process(p.name, StricterTicketsSettings, True, p.package) if p.name == "tickets" else p
        for p in PROCESSES
    ]
    processes.append(reviews)
    report = k8s_report(repo_copy, processes)
    assert "no Deployment named reviews for the process reviews" in report, report
    assert "REVIEWS_ADDR is not set; it must be dns:///reviews:50060" in report, report
    assert "Deployment/tickets: FRAUD_API_URL is not set" in report, report
    assert (
        "FRAUD_CALLBACK is not set (StricterTicketsSettings: its default points at this" in report
    )
    compose = "\n".join(dc.check_compose(repo_copy, processes))
    assert "docker-compose.yml: no service reviews" in compose, compose
    docker = "\n".join(dc.check_dockerfile(repo_copy, processes))
    assert (
        "EXPOSE [8000, 9100, 9101, 9102, 9103, 9104, 9105, 9106, 9107, 9108, 9109, 50051, 50052, "
        "50053, 50054, 50055, 50056, 50057, 50058, 50059] differs from the processes' ports [8000, "
        "9100, 9101, 9102, 9103, 9104, 9105, 9106, 9107, 9108, 9109, 9110, 50051" in docker
    ), docker


def test_the_single_writer_scaled_out_or_without_its_volume_is_reported(repo_copy: Path) -> None:
    """insights writes one DuckDB file: one replica, Recreate, no autoscaler, its file on a
    PersistentVolumeClaim. Each way of breaking that is reported with the reason."""
    insights = repo_copy / "k8s" / "base" / "insights.yaml"
    edit(insights, "  replicas: 1\n", "  replicas: 2\n")
    edit(insights, "    type: Recreate\n", "    type: RollingUpdate\n")
    edit(
        insights,
        "          persistentVolumeClaim: {claimName: insights-data}\n",
        "          emptyDir: {}\n",
    )
    text = insights.read_text()
    hpa = (repo_copy / "k8s" / "base" / "expiration.yaml").read_text().split("---\n")[3]
    assert "kind: HorizontalPodAutoscaler" in hpa
    insights.write_text(text + "---\n" + hpa.replace("expiration", "insights"))
    report = k8s_report(repo_copy)
    reason = "it must run one replica: DuckDB lets one process write its file"
    assert "Deployment/insights: spec.replicas is 2, expected 1: " + reason in report, report
    assert (
        "Deployment/insights: strategy RollingUpdate starts the new pod while the old one holds "
        "the file; use Recreate: " + reason in report
    ), report
    assert (
        "Deployment/insights: HorizontalPodAutoscaler/insights scales it, but " + reason in report
    ), report
    assert (
        "Deployment/insights: INSIGHTS_DB_PATH=/var/lib/ticketing/insights/events.duckdb is on "
        "volume data, not a PersistentVolumeClaim" in report
    ), report
    # Every other process keeps its autoscaler rule.
    edit(
        repo_copy / "k8s" / "base" / "expiration.yaml",
        "kind: HorizontalPodAutoscaler",
        "kind: HorizontalPodAutoscalerGone",
    )
    assert "Deployment/expiration: no HorizontalPodAutoscaler scales it" in k8s_report(repo_copy)


def test_broken_compose_and_dockerfile_are_reported(repo_copy: Path) -> None:
    edit(
        repo_copy / "docker-compose.yml",
        'test: ["CMD", "python", "-c", *grpc-health, "50053"]',
        'test: ["CMD", "python", "-c", *grpc-health, "50063"]',
    )
    edit(
        repo_copy / "docker-compose.yml",
        '    command: ["tickets"]\n',
        '    command: ["tickets"]\n    ports: ["50052:50052"]\n',
    )
    edit(
        repo_copy / "docker-compose.yml",
        "EXPIRATION_ADDR: expiration:50055",
        "EXPIRATION_ADDR: expiration:50051",
    )
    edit(
        repo_copy / "Dockerfile",
        "EXPOSE 8000 9100 50051 50052 50053 50054 50055 50056 50057 50058 50059 9101 9102 9103 "
        "9104 9105 9106 9107 9108 9109",
        "EXPOSE 8000 50051",
    )
    edit(
        repo_copy / "Dockerfile",
        "ARG GRPCIO_TOOLS_VERSION=1.85.1",
        "ARG GRPCIO_TOOLS_VERSION=1.80.0",
    )
    compose = "\n".join(dc.check_compose(repo_copy, PROCESSES))
    assert "service orders: healthcheck" in compose and "does not check port 50053" in compose
    assert "service tickets: publishes port 50052" in compose, compose
    assert "service gateway: EXPIRATION_ADDR should be expiration:50055" in compose, compose
    docker = "\n".join(dc.check_dockerfile(repo_copy, PROCESSES))
    assert "EXPOSE [8000, 50051] differs" in docker, docker
    assert "ARG GRPCIO_TOOLS_VERSION=1.80.0, but requirements-dev.lock pins" in docker, docker
