"""Egress NetworkPolicies: each pod reaches only DNS and what it calls (tools/deploy_check/
k8s_egress.py derives that from the code). Breaking a copy of the manifests is reported by name:
a caller cut off from a service, a pod let out to everything, Stripe's rule opened to private
ranges, prod's datastore ports given to a process that does not use them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.edits import PROCESSES, edit, k8s_report
from tools import deploy_check as dc
from tools.deploy_check.model import CALLS


@pytest.mark.parametrize("process", [p for p in PROCESSES if p.grpc], ids=lambda p: p.name)
def test_the_table_of_calls_agrees_with_the_code(process: dc.Process) -> None:
    """model.CALLS says whom a service calls; its bootstrap.py says whose address it dials."""
    bootstrap = (dc.ROOT / process.package / "bootstrap.py").read_text()
    dialled = set(re.findall(r'addr_of\("(\w+)"\)', bootstrap))
    assert dialled == set(CALLS.get(process.name, ())), (
        f"{process.name}: update CALLS in tools/deploy_check/model.py"
    )


def test_a_caller_cut_off_or_let_out_everywhere_is_reported(repo_copy: Path) -> None:
    base = repo_copy / "k8s" / "base"
    edit(
        base / "gateway.yaml",
        "              app.kubernetes.io/name: tickets\n      ports:\n"
        "        - {protocol: TCP, port: 50052}\n",
        "              app.kubernetes.io/name: tickets\n      ports:\n"
        "        - {protocol: TCP, port: 50059}\n",
    )
    edit(base / "auth.yaml", "  egress: []\n", "  egress:\n    - to:\n        - podSelector: {}\n")
    report = k8s_report(repo_copy)
    assert "k8s/overlays/dev: NetworkPolicy keeps gateway from reaching tickets:50052" in report
    lets_auth = next(
        line for line in report.splitlines() if "NetworkPolicy lets auth reach" in line
    )
    assert "gateway:8000" in lets_auth and "orders:50053" in lets_auth, lets_auth
    assert "mongo:27017" not in lets_auth.split(";")[0]  # auth uses it: expected, not extra
    assert (
        "it should reach only kube-dns:53/TCP, kube-dns:53/UDP, mongo:27017, rabbitmq:5672, "
        "redis:6379" in lets_auth
    ), lets_auth


def test_stripes_rule_opened_to_private_ranges_is_reported(repo_copy: Path) -> None:
    edit(
        repo_copy / "k8s" / "base" / "payments.yaml",
        "            except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, "
        "100.64.0.0/10]\n",
        "",
    )
    report = k8s_report(repo_copy)
    assert "NetworkPolicy lets payments reach a private address:443; it should reach" in report


def test_a_pod_without_the_default_egress_policy_reaches_everything(repo_copy: Path) -> None:
    """The datastores in dev: without the namespace's default, redis (which calls no one) is let
    out anywhere by its own policy's missing Egress type."""
    text = (repo_copy / "k8s" / "components" / "datastores" / "redis.yaml").read_text()
    text = text.replace("  policyTypes: [Ingress, Egress]\n", "  policyTypes: [Ingress]\n", 1)
    (repo_copy / "k8s" / "components" / "datastores" / "redis.yaml").write_text(text)
    edit(
        repo_copy / "k8s" / "base" / "networkpolicy-default-deny.yaml",
        "  name: default-deny-egress-but-dns\nspec:\n  podSelector: {}\n",
        "  name: default-deny-egress-but-dns\nspec:\n  podSelector:\n"
        "    matchExpressions:\n      - {key: app.kubernetes.io/name, operator: NotIn, "
        "values: [redis]}\n",
    )
    report = k8s_report(repo_copy)
    assert "NetworkPolicy lets redis reach " in report and "the internet:443" in report, report


def test_prod_datastore_ports_follow_who_uses_each_store(repo_copy: Path) -> None:
    egress = repo_copy / "k8s" / "overlays" / "prod" / "datastores-egress.yaml"
    edit(
        egress,
        "values: [auth, tickets, orders, payments, catalogue, delivery, notifications]",
        "values: [gateway, tickets, orders, payments, catalogue, delivery, notifications]",
    )
    report = k8s_report(repo_copy, overlays=("prod",))
    assert (
        "k8s/overlays/prod: NetworkPolicy lets gateway reach a private address:27017, "
        "the internet:27017; it should reach only" in report
    ), report
    assert (
        "k8s/overlays/prod: NetworkPolicy keeps auth from reaching a private address:27017, "
        "the internet:27017" in report
    ), report
