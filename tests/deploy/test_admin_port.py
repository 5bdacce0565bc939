"""The gateway's admin port (GATEWAY_ADMIN_PORT, 9100: probes and /metrics) as the shipping files
must use it: compose's health check and `expose`, and an Ingress that publishes the whole public
port (`/` by prefix) and never the admin one (test_deploy.py breaks the scrape side)."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.edits import PROCESSES, edit, k8s_report
from tools import deploy_check as dc


def test_compose_probing_the_public_port_or_hiding_the_admin_one_is_reported(
    repo_copy: Path,
) -> None:
    compose = repo_copy / "docker-compose.yml"
    edit(compose, '        - "9100" # GATEWAY_ADMIN_PORT', '        - "8000" # GATEWAY_PORT')
    edit(compose, '    expose: ["9100"]', '    expose: ["8000"]')
    report = "\n".join(dc.check_compose(repo_copy, PROCESSES))
    assert (
        "service gateway: healthcheck ['8000'] does not check port 9100 "
        "(GatewaySettings.gateway_admin_port)" in report
    ), report
    assert "service gateway: expose ['8000'] lacks the metrics port" in report, report


def test_an_ingress_that_lists_paths_instead_of_the_whole_port_is_reported(
    repo_copy: Path,
) -> None:
    edit(repo_copy / "k8s" / "base" / "ingress.yaml", "pathType: Prefix", "pathType: Exact")
    report = k8s_report(repo_copy)
    assert (
        "k8s/overlays/dev: Ingress/gateway: routes / as Exact, not Prefix: every path of the "
        "gateway's public port is public" in report
    ), report
