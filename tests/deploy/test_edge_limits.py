"""The Ingress caps connections per client address: the gateway counts none of the ingress
controller's (gateway/edge.py), so without the annotation nothing would."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.edits import edit, k8s_report


def test_an_ingress_without_a_connection_cap_is_reported(repo_copy: Path) -> None:
    edit(
        repo_copy / "k8s" / "base" / "ingress.yaml",
        '    nginx.ingress.kubernetes.io/limit-connections: "64"\n',
        "",
    )
    report = k8s_report(repo_copy)
    assert (
        "Ingress/gateway: nginx.ingress.kubernetes.io/limit-connections is None, not a "
        "positive number" in report
    ), report
