"""Every process gets its service identity (tools/deploy_check/identity.py): a process that calls
another signs with a key of its own, which no other process gets, and every gRPC service reads
the callers' public keys, in the Kubernetes overlays and in docker compose alike."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.edits import PROCESSES, edit, k8s_report
from tools import deploy_check as dc
from tools.deploy_check import identity


def test_the_repository_gives_every_process_its_identity() -> None:
    assert identity.callers(PROCESSES) == {"gateway", "orders", "payments"}
    assert identity.check_access_tables(PROCESSES) == []


def test_a_caller_without_its_key_or_with_anothers_is_reported(repo_copy: Path) -> None:
    base = repo_copy / "k8s" / "base"
    edit(
        base / "orders.yaml",
        "            - name: SERVICE_PRIVATE_KEY_FILE\n"
        "              value: /var/run/secrets/ticketing/service-key/private.pem\n",
        "",
    )
    edit(
        base / "payments.yaml",
        "secretName: service-key-payments",
        "secretName: service-key-gateway",
    )
    edit(
        base / "insights.yaml",
        "              mountPath: /var/run/secrets/ticketing/service-public\n",
        "              mountPath: /var/run/secrets/ticketing/elsewhere\n",
    )
    report = k8s_report(repo_copy)
    assert (
        "Deployment/orders: orders calls other services and needs its own service key" in report
    ), report
    assert (
        "Deployment/payments mounts Secret service-key-gateway, the service key of gateway only"
        in report
    ), report
    assert "Deployment/insights: SERVICE_PUBLIC_KEYS_DIR must name a mounted volume" in report


def test_compose_without_a_callers_key_or_sharing_one_is_reported(repo_copy: Path) -> None:
    compose_file = repo_copy / "docker-compose.yml"
    edit(compose_file, "      - service-key-gateway:/run/service-key:ro\n", "")
    edit(
        compose_file,
        "      - service-key-orders:/run/service-key:ro\n",
        "      - service-key-orders:/run/service-key:ro\n"
        "      - service-key-payments:/run/payments-key:ro\n",
    )
    compose = "\n".join(dc.check_compose(repo_copy, PROCESSES))
    assert "service gateway: gateway calls other services and needs its own service key" in compose
    assert (
        "service orders mounts volume service-key-payments, the service key of payments" in compose
    )


def test_an_access_table_admitting_a_process_that_does_not_call_is_reported(monkeypatch) -> None:
    from common.service_identity import access
    from svc_expiration.entrypoints import access as expiration_access

    monkeypatch.setitem(expiration_access.ACCESS, "GetExpiration", access("orders"))
    problems = identity.check_access_tables(PROCESSES)
    assert problems == [
        "svc_expiration/entrypoints/access.py admits orders, which does not call expiration "
        "(tools/deploy_check/model.py CALLS)"
    ]


def test_a_key_given_to_a_process_that_calls_no_service_is_reported(repo_copy: Path) -> None:
    """Tickets called orders before it became the authority on seats; it calls none now, and a
    private key it does not use is one more to leak."""
    edit(
        repo_copy / "k8s" / "base" / "tickets.yaml",
        "            - name: JWT_PUBLIC_KEY_FILE\n",
        "            - name: SERVICE_PRIVATE_KEY_FILE\n"
        "              value: /var/run/secrets/ticketing/service-public/tickets.pem\n"
        "            - name: JWT_PUBLIC_KEY_FILE\n",
    )
    compose_file = repo_copy / "docker-compose.yml"
    edit(
        compose_file,
        "      <<: *mongo-service-env\n    volumes:\n      # It calls no service",
        "      <<: *mongo-service-env\n"
        "      SERVICE_PRIVATE_KEY_FILE: /run/service-key/private.pem\n"
        "    volumes:\n      # It calls no service",
    )
    report = k8s_report(repo_copy)
    assert (
        "Deployment/tickets: tickets calls no service (no access table admits it): drop "
        "SERVICE_PRIVATE_KEY_FILE and the Secret of its key" in report
    ), report
    compose = "\n".join(dc.check_compose(repo_copy, PROCESSES))
    assert (
        "service tickets: tickets calls no service (no access table admits it): drop "
        "SERVICE_PRIVATE_KEY_FILE and the volume of its key" in compose
    ), compose
