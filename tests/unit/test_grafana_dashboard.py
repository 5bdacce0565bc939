"""deploy/grafana/ticketing.json: a dashboard Grafana reads (held against Grafana's dashboard
models, tests/support/grafana_schema.py), and every PromQL expression in it asks for series this
code exports, so a renamed metric cannot leave a panel empty without failing here."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

# Imported for what importing does: the series module defines every series, the outbox module
# registers the backlog's collector.
import common.metrics.outbox
import common.metrics.series  # noqa: F401
from tests.support.grafana_schema import dashboard_problems

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "ticketing.json"

# The sample names each kind of metric family exposes, as prometheus-client writes them.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
}
PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
}


def exported_series() -> set[str]:
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in SUFFIXES.get(family.type, ("",))
    }


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are neither functions nor
    keywords, once strings, label matchers, ranges and grouping clauses are taken out."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for found in re.finditer(r"(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[found.end() :].lstrip()
        if following.startswith("(") or found.group().lower() in PROMQL_WORDS:
            continue
        names.add(found.group())
    return names


def expressions(dashboard: dict) -> Iterator[tuple[str, str]]:
    """(panel title, expr) of every query, rows' nested panels included."""
    for panel in dashboard.get("panels") or []:
        for nested in [panel, *(panel.get("panels") or [])]:
            for target in nested.get("targets") or []:
                yield nested.get("title", "?"), target.get("expr", "")


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def test_the_dashboard_is_one_grafana_reads(dashboard) -> None:
    assert dashboard_problems(dashboard) == []


def test_a_dashboard_grafana_would_not_read_is_reported(dashboard) -> None:
    broken = copy.deepcopy(dashboard)
    panel = broken["panels"][1]
    panel["fieldconfig"] = panel.pop("fieldConfig")
    panel["gridPos"]["h"] = "8"
    panel["targets"][0]["legendformat"] = panel["targets"][0].pop("legendFormat")
    broken["graphTooltip"] = 7
    assert sorted(dashboard_problems(broken)) == [
        "$.graph_tooltip: 7 is not DashboardCursorSync",
        "$.panels[1].fieldconfig: not a field Grafana's models know",
        "$.panels[1].grid_pos.h: '8' is not int",
        "$.panels[1].targets[0].legendformat: not a field Grafana's models know",
    ]


def test_every_expression_asks_for_series_the_code_exports(dashboard) -> None:
    exported = exported_series()
    queries = list(expressions(dashboard))
    assert len(queries) >= 20
    unknown = [
        f"{title}: {name}"
        for title, expr in queries
        for name in sorted(metric_names(expr) - exported)
    ]
    assert unknown == []


def test_the_dashboard_covers_golden_signals_and_the_funnel(dashboard) -> None:
    asked = {name for _, expr in expressions(dashboard) for name in metric_names(expr)}
    assert {
        "ticketing_graphql_requests_total",
        "ticketing_graphql_request_duration_seconds_bucket",
        "ticketing_graphql_requests_in_flight",
        "grpc_server_handled_total",
        "grpc_server_handling_seconds_bucket",
        "ticketing_events_published_total",
        "ticketing_events_consumed_total",
        "ticketing_events_retried_total",
        "ticketing_events_dead_lettered_total",
        "ticketing_outbox_unsent_events",
        "ticketing_outbox_oldest_unsent_age_seconds",
        "ticketing_order_status_changes_total",
        "ticketing_order_expiry_lateness_seconds_bucket",
        "ticketing_stripe_requests_total",
        "ticketing_stripe_request_duration_seconds_bucket",
        "ticketing_ticket_cache_reads_total",
    } <= asked


def test_metric_names_are_read_from_promql() -> None:
    expr = (
        'sum by (le, path) (rate(ticketing_x_bucket{status!="ok", a=~"b|c"}[$__rate_interval]))'
        " / on (path) group_left sum(ticketing_y_total offset 5m) or vector(0)"
    )
    assert metric_names(expr) == {"ticketing_x_bucket", "ticketing_y_total"}
    assert metric_names("histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m])))") == {
        "a_bucket"
    }
    assert "ticketing_nope_total" in metric_names("sum(rate(ticketing_nope_total[1m]))")
