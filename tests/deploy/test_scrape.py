"""Where Prometheus scrapes each process (tools/deploy_check/metrics.py), broken in a copy of the
manifests and compose: each disagreement with the code's metrics ports is reported by name."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.edits import PROCESSES, edit, k8s_report
from tools import deploy_check as dc


def test_scrape_configuration_that_disagrees_with_the_code_is_reported(repo_copy: Path) -> None:
    base = repo_copy / "k8s" / "base"
    edit(base / "orders.yaml", 'prometheus.io/port: "9103"', 'prometheus.io/port: "9113"')
    edit(base / "auth.yaml", '        prometheus.io/scrape: "true"\n', "")
    edit(
        base / "tickets.yaml",
        "            - name: metrics\n"
        "              containerPort: 9102\n"
        "              protocol: TCP\n",
        "",
    )
    # Prometheus kept out of payments' metrics port: its rule opens the gRPC port instead.
    edit(
        base / "payments.yaml",
        "        - {protocol: TCP, port: 9104}",
        "        - {protocol: TCP, port: 50054}",
    )
    edit(
        base / "kustomization.yaml",
        "      - ORDER_EXPIRATION_SECONDS=900\n",
        "      - ORDER_EXPIRATION_SECONDS=900\n      - EXPIRATION_METRICS_PORT=9200\n",
    )
    # The gateway's Service carries its admin port too, and the Ingress routes to it.
    edit(
        base / "gateway.yaml",
        "      appProtocol: http\n",
        "      appProtocol: http\n    - {name: admin, port: 9100, targetPort: admin}\n",
    )
    edit(base / "ingress.yaml", "port: {number: 8000}", "port: {name: admin}")
    # Prometheus let in on the gateway's public port instead of its admin one.
    edit(
        base / "gateway.yaml",
        "      ports:\n        - {protocol: TCP, port: 9100}",
        "      ports:\n        - {protocol: TCP, port: 8000}",
    )
    report = k8s_report(repo_copy)
    assert (
        "Deployment/orders: pod annotation prometheus.io/port='9113', expected '9103' "
        "(metrics: OrdersSettings.orders_metrics_port = 9103, GET /metrics)" in report
    ), report
    assert "Deployment/auth: pod annotation prometheus.io/scrape=None, expected 'true'" in report
    assert (
        "Deployment/tickets: no containerPort 9102 for metrics "
        "(TicketsSettings.tickets_metrics_port)" in report
    ), report
    assert "NetworkPolicy keeps prometheus from reaching payments:9104" in report, report
    assert "NetworkPolicy lets prometheus reach payments:50054" in report, report
    assert (
        "Deployment/expiration: sets EXPIRATION_METRICS_PORT=9200, but the scrape configuration "
        "is written for ExpirationSettings.expiration_metrics_port = 9105" in report
    ), report
    assert (
        "Ingress/gateway routes / to Service gateway, port 9100: that is "
        "GatewaySettings.gateway_admin_port, which publishes /metrics" in report
    ), report
    assert "NetworkPolicy lets prometheus reach gateway:8000; only the ingress controller" in report
    assert "NetworkPolicy keeps prometheus from reaching gateway:9100" in report, report

    compose = repo_copy / "docker-compose.yml"
    edit(compose, 'expose: ["9103"]', 'expose: ["9000"]')
    edit(compose, 'ORDER_EXPIRATION_SECONDS: "900"\n', 'ORDERS_METRICS_PORT: "9000"\n')
    report = "\n".join(dc.check_compose(repo_copy, PROCESSES))
    assert "service orders: expose ['9000'] lacks the metrics port" in report, report
    assert "service orders: sets ORDERS_METRICS_PORT=9000, but the scrape" in report, report
