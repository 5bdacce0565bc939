"""The images and docker compose as Docker runs them, checked statically (tools/deploy_check):
broken copies of the files are reported by name. `make compose-smoke` runs them for real."""

from __future__ import annotations

import re
from pathlib import Path

from tests.deploy.edits import edit
from tools import deploy_check as dc
from tools.deploy_check.dockerfile import dockerignored
from tools.docker_versions import MIN_COMPOSE, MIN_ENGINE, at_least, version_tuple
from tools.image_sizes import MB, Measured, base_image, verdict

ROOT = dc.ROOT
PROCESSES = dc.load_processes()


def compose_report(root: Path) -> str:
    return "\n".join(dc.check_compose(root, PROCESSES))


def docker_report(root: Path) -> str:
    return "\n".join(dc.check_dockerfile(root, PROCESSES))


def test_up_wait_needs_every_one_shot_waited_for(repo_copy: Path) -> None:
    """docker/compose#10596: a one-shot that exits 0 with nothing depending on its completion
    makes `docker compose up --wait` exit 1 on a healthy stack."""
    edit(
        repo_copy / "docker-compose.yml",
        "  service-keys: {condition: service_completed_successfully}\n",
        "",
    )
    assert (
        "service service-keys is a one-shot (restart: no) that nothing depends "
        "on with condition service_completed_successfully" in compose_report(repo_copy)
    )


def test_health_timing_an_older_engine_ignores_is_reported(repo_copy: Path) -> None:
    edit(
        repo_copy / "docker-compose.yml",
        "  start_period: 30s\n",
        "  start_period: 30s\n  start_interval: 1s\n",
    )
    report = compose_report(repo_copy)
    assert "service redis: healthcheck start_interval is ignored by Docker Engine < 25" in report


def test_the_web_app_can_take_a_card_in_compose(repo_copy: Path) -> None:
    compose = repo_copy / "docker-compose.yml"
    edit(compose, "      STRIPE_PUBLISHABLE_KEY: pk_test_standin\n", "")
    edit(
        compose,
        '      - "127.0.0.1:${STRIPE_STANDIN_PUBLISHED_PORT:-8420}:8420"',
        '      - "127.0.0.1:8421:8420"',
    )
    report = compose_report(repo_copy)
    assert "service gateway: STRIPE_PUBLISHABLE_KEY is not a publishable key" in report, report
    assert (
        "service gateway: STRIPE_JS_URL is 'http://127.0.0.1:8420/js.stripe.com/v3/', expected "
        "'http://127.0.0.1:8421/js.stripe.com/v3/'" in report
    ), report


def test_the_stripe_stand_in_stays_out_of_the_service_image_and_its_pins_match(
    repo_copy: Path,
) -> None:
    assert docker_report(repo_copy) == ""
    edit(
        repo_copy / "pyproject.toml",
        'include = ["common*", "gateway*", "svc_*", "ticketing*"]',
        'include = ["common*", "gateway*", "svc_*", "ticketing*", "stripe*"]',
    )
    edit(
        repo_copy / "deploy" / "stripe-standin.Dockerfile",
        "ARG UVICORN_VERSION=",
        "ARG UVICORN_VERSION=0.1.0\nARG OLD_UVICORN_VERSION=",
    )
    report = docker_report(repo_copy)
    assert (
        "pyproject.toml: [tool.setuptools.packages.find] include 'stripe*' packages "
        "stripe_standin, a development-only package, into the service images" in report
    ), report
    assert (
        "deploy/stripe-standin.Dockerfile: ARG UVICORN_VERSION=0.1.0, but requirements-dev.lock "
        "pins uvicorn==" in report
    ), report


def test_ports_published_beyond_loopback_are_reported(repo_copy: Path) -> None:
    edit(
        repo_copy / "docker-compose.yml",
        '"127.0.0.1:${GATEWAY_PUBLISHED_PORT:-8000}:8000"',
        '"${GATEWAY_PUBLISHED_PORT:-8000}:8000"',
    )
    assert (
        "service gateway: publishes port 8000 on every address; publish it on 127.0.0.1 only"
        in compose_report(repo_copy)
    )


def test_insights_runs_its_own_image_and_the_others_the_services_one(repo_copy: Path) -> None:
    compose = repo_copy / "docker-compose.yml"
    edit(compose, "      target: insights\n", "      target: services\n")
    report = compose_report(repo_copy)
    assert (
        "service insights: its image ticketing-insights:dev is built (by insights) from the "
        "Dockerfile target 'services', expected 'insights'" in report
    ), report
    edit(compose, "    image: ticketing-insights:${TICKETING_IMAGE_TAG:-dev}\n", "")
    report = compose_report(repo_copy)
    assert "service insights: runs the image 'ticketing', expected 'ticketing-insights'" in report


def test_an_image_built_by_every_service_or_pulled_is_reported(repo_copy: Path) -> None:
    """Compose builds an image once per service with a build section: cold, the services image
    was built seven times over, in parallel. And it asks a registry first, unless told not to."""
    edit(
        repo_copy / "docker-compose.yml",
        "  image: ticketing:${TICKETING_IMAGE_TAG:-dev}\n",
        "  image: ticketing:${TICKETING_IMAGE_TAG:-dev}\n  build: {context: ., target: services}\n",
    )
    edit(
        repo_copy / "docker-compose.yml", "    pull_policy: never # built here", "    # built here"
    )
    report = compose_report(repo_copy)
    assert (
        "services auth, catalogue, delivery, expiration, gateway, jwt-keys, notifications, "
        "orders, payments, service-keys, ticket-keys, tickets all build the image ticketing:dev; "
        "let one build it" in report
    ), report
    assert (
        "service stripe-standin: its image ticketing-stripe-standin:dev is built here; set "
        "pull_policy: never" in report
    ), report


def test_a_syntax_line_a_missing_target_and_the_dev_stack_in_the_build_are_reported(
    repo_copy: Path,
) -> None:
    dockerfile = repo_copy / "Dockerfile"
    dockerfile.write_text("# syntax=docker/dockerfile:1\n" + dockerfile.read_text())
    edit(dockerfile, "FROM services AS insights", "FROM services AS analytics")
    edit(repo_copy / ".dockerignore", "common/devstack\n", "")
    report = docker_report(repo_copy)
    assert (
        "Dockerfile: a `# syntax=` line makes BuildKit fetch that frontend from a registry"
        in report
    ), report
    assert "Dockerfile: no target insights (the image of insights)" in report, report
    assert ".dockerignore: common/devstack is sent to the build" in report, report


def test_the_services_target_is_held_to_what_every_process_needs(repo_copy: Path) -> None:
    edit(repo_copy / "Dockerfile", "USER 10001:10001\n", "USER root\n")
    report = docker_report(repo_copy)
    assert "Dockerfile: target services: does not switch to a non-root USER" in report, report
    # insights is built FROM services: it inherits the user, and the problem.
    assert "Dockerfile: target insights: does not switch to a non-root USER" in report, report


def test_the_dockerignore_reads_folders_as_docker_does() -> None:
    patterns = "*\n!common/\ncommon/devstack\n"
    assert dockerignored(patterns, "common/devstack")
    assert not dockerignored(patterns, "common/cli.py")
    assert dockerignored(patterns, "tests")


# ---------------------------------------------------------------- the locks


def pins(name: str) -> set[str]:
    return {
        line.strip()
        for line in (ROOT / name).read_text().splitlines()
        if re.match(r"^[A-Za-z0-9]", line)
    }


def test_the_insights_packages_are_in_the_insights_lock_only() -> None:
    """The Dockerfile's insights layer is what requirements-insights.lock pins beyond
    requirements.lock: exactly the `insights` extra, with one version of each package in all
    three locks (`make lock` pins each within the one before)."""
    runtime, insights, dev = (
        pins(n)
        for n in ("requirements.lock", "requirements-insights.lock", "requirements-dev.lock")
    )
    assert runtime <= insights <= dev
    added = {re.split(r"[=; ]", pin)[0] for pin in insights - runtime}
    assert added == {"numpy", "scipy", "duckdb"}, added


# ---------------------------------------------------------------- make docker-versions, make image


def test_the_docs_state_the_versions_docker_versions_checks() -> None:
    deploying = (ROOT / "docs" / "deploying.md").read_text()
    assert f"Docker Engine {MIN_ENGINE}" in deploying and f"Compose {MIN_COMPOSE}" in deploying


def test_versions_compare_by_their_numbers() -> None:
    assert version_tuple("20.10.24+dfsg1") == (20, 10, 24)
    assert version_tuple("v5.6.1") == (5, 6, 1)
    assert at_least("20.10.24+dfsg1", "20.10") and at_least("28.2.2", "20.10")
    assert not at_least("20.9.1", "20.10") and not at_least("2.40.3", "5.6.1")


def test_an_image_over_its_target_is_reported_with_its_base() -> None:
    assert base_image("insights", (ROOT / "Dockerfile").read_text()).startswith("python:3.11")
    official = Measured("ticketing:dev", 359 * MB, "python:3.11.14-slim-bookworm", 286 * MB, None)
    ok, line = verdict(official, 350)
    assert not ok and line.endswith("OVER its target of 350 MB"), line
    assert (
        "359.0 MB = base python:3.11.14-slim-bookworm 286.0 MB + 73.0 MB from the Dockerfile"
        in line
    )
    assert verdict(official, 360)[0]
    # On a stand-in base, its apt download cache (none in an official image) is not counted.
    stand_in = Measured("ticketing:dev", 359 * MB, "python:3", 286 * MB, "Debian", 90 * MB)
    ok, line = verdict(stand_in, 350)
    assert ok and "a local stand-in (Debian)" in line and "269.0 MB counted" in line, line
    assert not verdict(stand_in, 268)[0]
