"""gRPC balanced per call in Kubernetes: every caller reaches a service through a dns:/// target
naming its headless Service (tests/integration/test_grpc_balancing.py shows what that does)."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.edits import edit, k8s_report


def test_a_service_behind_a_virtual_ip_or_an_address_without_dns_is_reported(
    repo_copy: Path,
) -> None:
    base = repo_copy / "k8s" / "base"
    edit(base / "auth.yaml", "  clusterIP: None\n", "")
    edit(
        base / "kustomization.yaml",
        "TICKETS_ADDR=dns:///tickets:50052",
        "TICKETS_ADDR=tickets:50052",
    )
    report = k8s_report(repo_copy)
    assert (
        "k8s/overlays/dev: Service/auth: not headless (clusterIP: None): its one virtual IP would "
        "give the callers' round_robin one address" in report
    ), report
    assert (
        "k8s/overlays/dev: Deployment/gateway: TICKETS_ADDR=tickets:50052 is not a dns:/// "
        "target; expected dns:///tickets:50052" in report
    ), report
    assert "Deployment/orders: TICKETS_ADDR=tickets:50052 is not a dns:/// target" in report
