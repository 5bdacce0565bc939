"""The benchmark table: percentiles, paired ratios, and what gets written (no stack, no timing)."""

from __future__ import annotations

import itertools
import json

import pytest

from bench import report
from bench.k6run import K6Result, combined
from bench.report import Latency, Row
from bench.run import grouped
from bench.scenarios import SCENARIOS


def test_percentiles_interpolate_between_ranks():
    samples = [float(v) for v in range(1, 101)]  # 1..100
    assert report.percentile(samples, 50) == pytest.approx(50.5)
    assert report.percentile(samples, 99) == pytest.approx(99.01)
    assert report.percentile([7.0], 99) == 7.0
    assert report.percentile([], 50) is None
    assert report.percentile([3.0, 1.0, 2.0], 100) == 3.0  # unsorted input


def test_latency_summary_of_samples():
    latency = Latency.of([10.0, 20.0, 30.0, 40.0])
    assert (latency.count, latency.p50, latency.max) == (4, 25.0, 40.0)
    assert Latency.of([]) == report.NO_LATENCY


def test_ratio_of_a_row_to_its_baseline_in_the_same_run():
    warm = Row("warm", "100", Latency.of([10.0, 20.0]))
    idle = Row("idle", "1", Latency.of([45.0, 60.0]), baseline="warm")
    orphan = Row("orphan", "1", Latency.of([5.0]), baseline="not in this run")
    rows = report.with_ratios([warm, idle, orphan])
    assert rows[1].ratio_p50 == pytest.approx(52.5 / 15.0)
    assert rows[1].ratio_p99 == pytest.approx(59.85 / 19.9)
    assert rows[0].ratio_p50 is None
    assert (rows[2].ratio_p50, rows[2].ratio_p99) == (None, None)
    assert "x3.50 / x3.01 of warm" in report.markdown_table(rows)


def test_table_has_a_line_per_row_and_escapes_pipes():
    rows = [
        Row("a", "10", Latency.of([1.0, 2.0]), throughput=1234.4, throughput_unit="events/s"),
        Row("b", "x|y", count=3, errors=2, target="0", met=False),
    ]
    lines = report.markdown_table(rows).splitlines()
    assert len(lines) == 4
    assert "1,234 events/s" in lines[2]
    assert "x\\|y" in lines[3] and "**no**" in lines[3] and "| 3 |" in lines[3]


def test_writes_the_run_and_latest_as_markdown_and_json(tmp_path):
    rows = [Row("a", "10", Latency.of([1.0]), met=True)]
    meta = {"started": "2026-01-02T03:04:05+00:00", "seconds": 1.0}
    written = report.write(rows, meta, tmp_path)
    assert sorted(p.name for p in written) == [
        "20260102T030405.json",
        "20260102T030405.md",
        "latest.json",
        "latest.md",
    ]
    saved = json.loads((tmp_path / "latest.json").read_text())
    assert saved["rows"][0]["scenario"] == "a" and saved["rows"][0]["latency"]["p99"] == 1.0
    assert "| a | 10 | 1 |" in (tmp_path / "latest.md").read_text()


def test_scenarios_sharing_a_stack_shape_run_on_one_stack_in_list_order():
    names = [s.name for s in SCENARIOS]
    assert len(names) == len(set(names))
    groups = grouped(list(SCENARIOS))
    assert [s.name for _, group in groups for s in group] == names
    shapes = [shape for shape, _ in groups]
    assert all(a != b for a, b in itertools.pairwise(shapes))
    # Idling needs a quiet stack: nothing may run on its stack after it.
    idle_group = next(g for _, g in groups if any(s.name == "propagation-idle" for s in g))
    assert idle_group[-1].name == "propagation-idle"
    assert any(shape.replicas == 3 for shape in shapes)  # the exactly-once scenario's stack


def test_throughput_ratio_and_ratio_targets_are_judged_in_the_same_run():
    direct = Row("direct", "16", Latency.of([2.0, 4.0]), throughput=1000.0)
    fast = Row(
        "gateway",
        "16",
        Latency.of([3.0, 5.0]),
        throughput=700.0,
        baseline="direct",
        ratio_target=report.RatioTarget("throughput", at_least=0.67),
    )
    slow = Row(
        "slow",
        "1",
        Latency.of([6.0, 8.0]),
        throughput=300.0,
        baseline="direct",
        ratio_target=report.RatioTarget("p50", at_most=1.5),
    )
    failing = Row(
        "failing",
        "16",
        Latency.of([3.0]),
        throughput=900.0,
        errors=1,
        baseline="direct",
        ratio_target=report.RatioTarget("throughput", at_least=0.67),
    )
    alone = Row("alone", "1", baseline="absent", ratio_target=report.RatioTarget("p99", 2.0))
    rows = report.with_ratios([direct, fast, slow, failing, alone])
    assert rows[1].ratio_throughput == pytest.approx(0.7)
    assert (rows[1].met, rows[1].target) == (True, "throughput ratio ≥ 0.67")
    assert rows[2].ratio_p50 == pytest.approx(7.0 / 3.0) and rows[2].met is False
    assert rows[3].met is False  # the ratio is met, but requests failed
    assert rows[4].met is False  # its baseline did not run: the target is not shown
    assert rows[0].met is None
    assert "x1.33 / x1.25 (throughput x0.70) of direct" in report.markdown_table(rows)


def test_k6_summary_trends_rates_and_rounds_combined():
    summary = {
        "metrics": {
            "http_req_duration{op:ticket}": {
                "values": {"med": 4.0, "p(95)": 9.0, "p(99)": 12.0, "max": 30.0, "count": 300}
            },
            "failures": {"values": {"count": 2, "rate": 0.5}},
            "window_ms": {"values": {"value": 1500.0, "min": 1000.0, "max": 4000.0}},
        }
    }
    result = K6Result(summary, "")
    latency = result.trend("http_req_duration", "ticket")
    assert (latency.count, latency.p50, latency.p99, latency.max) == (300, 4.0, 12.0, 30.0)
    assert result.trend("grpc_req_duration", "ticket") == report.NO_LATENCY
    assert (result.count("failures"), result.count("absent")) == (2, 0)
    assert result.window_seconds == 3.0 and result.rate(300) == 100.0
    assert K6Result({}, "").rate(10) is None
    other = Latency(100, 8.0, 10.0, 20.0, 50.0)
    both = combined([latency, other, report.NO_LATENCY])
    assert (both.count, both.max) == (400, 50.0)
    assert both.p50 == pytest.approx((4.0 * 300 + 8.0 * 100) / 400)
    assert both.p99 == pytest.approx((12.0 * 300 + 20.0 * 100) / 400)
    assert combined([]) == report.NO_LATENCY
