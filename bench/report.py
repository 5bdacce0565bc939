"""What every scenario returns (rows) and the one table they are printed and saved as.

A scenario measures; this module only summarises and writes, so a new scenario adds rows
without touching the table, the Markdown or the JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Latency:
    """Milliseconds at the usual cut points of one set of samples."""

    count: int
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Latency:
        return cls(
            count=len(samples_ms),
            p50=percentile(samples_ms, 50),
            p95=percentile(samples_ms, 95),
            p99=percentile(samples_ms, 99),
            max=max(samples_ms) if samples_ms else None,
        )


NO_LATENCY = Latency(0, None, None, None, None)

RATIO_MEASURES = ("p50", "p99", "throughput")


@dataclass(frozen=True)
class RatioTarget:
    """A target on a row's ratio to its baseline: `measure` is p50, p99 or throughput."""

    measure: str
    at_most: float | None = None
    at_least: float | None = None

    def __post_init__(self) -> None:
        if self.measure not in RATIO_MEASURES:
            raise ValueError(f"measure must be one of {RATIO_MEASURES}")

    def text(self) -> str:
        bound = f"≤ {self.at_most:g}" if self.at_most is not None else f"≥ {self.at_least:g}"
        return f"{self.measure} ratio {bound}"

    def met(self, value: float | None) -> bool:
        if value is None:
            return False
        if self.at_most is not None and value > self.at_most:
            return False
        return self.at_least is None or value >= self.at_least


@dataclass(frozen=True)
class Row:
    """One line of the table.

    `baseline` names another row's `scenario` measured in the same run; the ratio column then
    shows this row's p50 and p99 over that row's (e.g. propagation after idle / warm), and its
    throughput over that row's when both have one (e.g. gateway / direct gRPC).
    `met` is the verdict against `target`: True, False, or None when there is no target. With a
    `ratio_target`, the verdict is filled in with the ratios (and needs no errors).
    """

    scenario: str
    load: str
    latency: Latency = NO_LATENCY
    count: int | None = None  # what was measured, when not the latency samples
    throughput: float | None = None
    throughput_unit: str = ""
    errors: int = 0
    target: str = ""
    met: bool | None = None
    notes: str = ""
    baseline: str | None = None
    ratio_p50: float | None = None
    ratio_p99: float | None = None
    ratio_throughput: float | None = None
    ratio_target: RatioTarget | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def with_ratios(rows: Iterable[Row]) -> list[Row]:
    """Fills the ratios of every row whose baseline row is in the same run, and the verdict of
    rows with a ratio target (False when the baseline is missing: the target was not shown)."""
    rows = list(rows)
    by_name = {row.scenario: row for row in rows}
    paired = []
    for row in rows:
        base = by_name.get(row.baseline) if row.baseline else None
        if base is not None:
            row = replace(
                row,
                ratio_p50=ratio(row.latency.p50, base.latency.p50),
                ratio_p99=ratio(row.latency.p99, base.latency.p99),
                ratio_throughput=ratio(row.throughput, base.throughput),
            )
        if row.ratio_target is not None:
            target = row.ratio_target
            value = getattr(row, f"ratio_{target.measure}")
            row = replace(
                row,
                target=row.target or target.text(),
                met=target.met(value) and row.errors == 0 and base is not None,
            )
        paired.append(row)
    return paired


COLUMNS = (
    "scenario",
    "load",
    "n",
    "throughput",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "errors",
    "ratio p50/p99 (throughput)",
    "target",
    "met",
    "notes",
)


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _throughput(row: Row) -> str:
    if row.throughput is None:
        return "-"
    return f"{row.throughput:,.0f} {row.throughput_unit}".strip()


def _ratio(row: Row) -> str:
    ratios = (row.ratio_p50, row.ratio_p99, row.ratio_throughput)
    if row.baseline is None or all(r is None for r in ratios):
        return "-"
    parts = ["-" if r is None else f"x{r:.2f}" for r in ratios]
    throughput = f" (throughput {parts[2]})" if row.ratio_throughput is not None else ""
    return f"{parts[0]} / {parts[1]}{throughput} of {row.baseline}"


def _verdict(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "-"}[met]


def cells(row: Row) -> list[str]:
    lat = row.latency
    return [
        row.scenario,
        row.load,
        str(row.count if row.count is not None else lat.count or "-"),
        _throughput(row),
        _ms(lat.p50),
        _ms(lat.p95),
        _ms(lat.p99),
        _ms(lat.max),
        str(row.errors),
        _ratio(row),
        row.target or "-",
        _verdict(row.met),
        row.notes,
    ]


def markdown_table(rows: Sequence[Row]) -> str:
    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    out = [line(COLUMNS), line(["---"] * len(COLUMNS))]
    out += [line(cells(row)) for row in rows]
    return "\n".join(out)


def _loads(meta: dict[str, Any], when: str) -> str:
    values = meta.get("load_average", {}).get(when)
    return "?" if not values else "/".join(f"{v:.1f}" for v in values)


def markdown(rows: Sequence[Row], meta: dict[str, Any]) -> str:
    header = [
        f"# Benchmark run {meta['started']}",
        "",
        f"Commit `{meta.get('commit', '?')}` on {meta.get('host', '?')} "
        f"({meta.get('cpus', '?')} CPUs); options: {meta.get('options', {})}; "
        f"took {meta.get('seconds', 0):.0f} s; load average (1, 5, 15 min) "
        f"{_loads(meta, 'start')} at start, {_loads(meta, 'end')} at end.",
        "",
    ]
    return "\n".join([*header, markdown_table(rows), ""])


def as_json(rows: Sequence[Row], meta: dict[str, Any]) -> str:
    return json.dumps({"meta": meta, "rows": [asdict(r) for r in rows]}, indent=2, default=str)


def write(rows: Sequence[Row], meta: dict[str, Any], results_dir: Path) -> list[Path]:
    """`<timestamp>.md/.json` for this run, and the same as `latest.md/.json`."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(meta["started"]).strftime("%Y%m%dT%H%M%S")
    md, js = markdown(rows, meta), as_json(rows, meta)
    written = []
    for stem in (stamp, "latest"):
        for suffix, text in ((".md", md), (".json", js)):
            path = results_dir / f"{stem}{suffix}"
            path.write_text(text)
            written.append(path)
    return written
