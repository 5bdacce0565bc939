"""What each overlay comes out as after kustomize has merged it with the base: the settings every
process sees, the replica floors and the images, against the table in
tools/deploy_check/k8s_effective.py; and the YAML under k8s/ as written (no key twice)."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.edits import edit, k8s_report
from tools import deploy_check as dc
from tools.deploy_check.k8s_effective import EFFECTIVE_SETTINGS
from tools.deploy_check.k8s_sources import check_yaml_sources

# The prod overlay's settings and images as they were before issue 16.
OLD_PROD_SETTINGS = """\
configMapGenerator:
  - name: ticketing-config
    behavior: merge
    literals:
      - TRUSTED_PROXIES=10.0.0.0/8

images:
  - name: ticketing
    newName: registry.example.com/ticketing
    newTag: "0.1.0"
  - name: ticketing-insights
    newName: registry.example.com/ticketing-insights
    newTag: "0.1.0"

configMapGenerator:
  - name: ticketing-config
    behavior: merge
    literals:
      - GRAPHQL_INTROSPECTION=false
      - GRAPHQL_IDE=false

"""


def test_prod_trusts_only_the_ingress_network_and_hides_the_schema() -> None:
    """The facts the table holds prod to, read from the rendered gateway itself."""
    m = dc.Manifests(dc.render_overlay(dc.ROOT, "prod"))
    gateway = dc.pod_template(m.get("Deployment", "gateway"))["spec"]["containers"][0]
    config = m.config_map_data(gateway["envFrom"][0]["configMapRef"]["name"]) or {}
    assert config["TRUSTED_PROXIES"] == EFFECTIVE_SETTINGS["prod"]["TRUSTED_PROXIES"]
    assert config["TRUSTED_PROXIES"] != EFFECTIVE_SETTINGS["dev"]["TRUSTED_PROXIES"]
    assert (config["GRAPHQL_INTROSPECTION"], config["GRAPHQL_IDE"]) == ("false", "false")


def test_a_generator_written_twice_is_reported_and_its_loss_shows(repo_copy: Path) -> None:
    """The prod overlay as it was: `configMapGenerator` twice in one mapping. kustomize keeps the
    second and renders prod with the base's wide TRUSTED_PROXIES, without a word."""
    prod = repo_copy / "k8s" / "overlays" / "prod" / "kustomization.yaml"
    text = prod.read_text()
    head, rest = text.split("configMapGenerator:\n", 1)
    prod.write_text(head + OLD_PROD_SETTINGS + "patches:\n" + rest.split("patches:\n", 1)[1])
    report = k8s_report(repo_copy, overlays=("prod",))
    assert (
        "k8s/overlays/prod/kustomization.yaml:" in report
        and "key 'configMapGenerator' appears twice in one mapping" in report
    ), report
    assert (
        "k8s/overlays/prod: Deployment/gateway: TRUSTED_PROXIES is "
        "'10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7' after rendering, "
        "expected '10.0.0.0/8'" in report
    ), report


def test_a_duplicate_key_anywhere_under_k8s_is_reported(repo_copy: Path) -> None:
    edit(
        repo_copy / "k8s" / "base" / "tickets.yaml",
        "  revisionHistoryLimit: 5\n",
        "  revisionHistoryLimit: 5\n  revisionHistoryLimit: 10\n",
    )
    problems = check_yaml_sources(repo_copy)
    assert problems == [
        "k8s/base/tickets.yaml:21: key 'revisionHistoryLimit' appears twice in one mapping "
        "(lines 20 and 21); the second would silently replace the first"
    ], problems


def test_an_overlay_setting_lost_or_a_floor_changed_is_reported(repo_copy: Path) -> None:
    dev = repo_copy / "k8s" / "overlays" / "dev" / "kustomization.yaml"
    edit(dev, "      - GRAPHQL_IDE=true\n", "")
    edit(
        dev,
        "        path: /spec/minReplicas\n        value: 1\n",
        "        path: /spec/minReplicas\n        value: 2\n",
    )
    report = k8s_report(repo_copy)
    assert (
        "k8s/overlays/dev: Deployment/gateway: GRAPHQL_IDE is 'false' after rendering, "
        "expected 'true'" in report
    ), report
    assert (
        "k8s/overlays/dev: HorizontalPodAutoscaler/tickets: replicas 2..3 after rendering, "
        "expected 1..3" in report
    ), report


def test_a_process_on_the_wrong_image_is_reported(repo_copy: Path) -> None:
    edit(
        repo_copy / "k8s" / "base" / "insights.yaml",
        "image: ticketing-insights",
        "image: ticketing",
    )
    edit(
        repo_copy / "k8s" / "overlays" / "prod" / "kustomization.yaml",
        '    newName: registry.example.com/ticketing-insights\n    newTag: "0.1.0"',
        '    newName: registry.example.com/ticketing-insights\n    newTag: "0.2.0"',
    )
    report = k8s_report(repo_copy, overlays=("dev", "prod"))
    assert (
        "k8s/overlays/dev: Deployment/insights runs image ticketing:dev, expected "
        "ticketing-insights" in report
    ), report
    edit(
        repo_copy / "k8s" / "base" / "insights.yaml",
        "image: ticketing",
        "image: ticketing-insights",
    )
    report = k8s_report(repo_copy, overlays=("prod",))
    assert (
        "k8s/overlays/prod: the processes run images of different versions ['0.1.0', '0.2.0']"
        in report
    ), report
