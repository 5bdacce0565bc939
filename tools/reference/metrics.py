"""docs/reference/metrics.md: every Prometheus series of the system, from the registry itself.

The modules that register metrics are imported (common.metrics and each process's wiring:
`svc_<name>.bootstrap`, `gateway.app`), then prometheus-client's default registry is read: each
collector's name, type, label names and help text. prometheus-client's own collectors (process,
platform, gc) are left out of the table: what they export depends on the machine.

"Recorded by" is read from the code, not written by hand: a module records a metric when it uses
the metric's object or a function or class of the metric's module that uses it
(`series.rpc_handled` records `grpc_server_handled`); a process records it when such a module is
among the modules its `__main__` imports, directly or not (grimp's import graph, as
tools/import_cycles.py builds it).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import grimp
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

from tools.reference import ROOT, _code

PAGE = "docs/reference/metrics.md"
SOURCE = "the Prometheus registry and the processes' code (tools/reference/metrics.py)"

# Where the project's metrics are defined, and each process's wiring (what it imports at start).
METRIC_MODULES = ("common.metrics.series", "common.metrics.outbox")


def wiring_modules(root: Path | None = None) -> list[str]:
    names = []
    for process, package in _code.processes(root).items():
        names.append("gateway.app" if process == "gateway" else f"{package}.bootstrap")
    return names


def _project_module(module: ModuleType) -> bool:
    name = getattr(module, "__name__", "")
    return name.split(".")[0] in {"common", *_code.processes().values()}


def load() -> None:
    for name in [*METRIC_MODULES, *wiring_modules()]:
        importlib.import_module(name)


def collectors() -> list[Collector]:
    """Every collector of the default registry that a module of the project registered."""
    load()
    found = []
    for collector in list(REGISTRY._collector_to_names):  # no public listing of collectors
        if type(collector).__module__.startswith("prometheus_client."):
            if not isinstance(collector, MetricWrapperBase):
                continue  # process, platform, gc: prometheus-client's own
        found.append(collector)
    return found


def families(collector: Collector) -> list[tuple[str, str, tuple[str, ...], str]]:
    """(name as scraped, type, label names, help) of each series family of a collector."""
    if isinstance(collector, MetricWrapperBase):
        kind = collector._type
        name = collector._name + ("_total" if kind == "counter" else "")
        return [(name, kind, tuple(collector._labelnames), collector._documentation)]
    return [
        (family.name, family.type, tuple(family._labelnames), family.documentation)
        for family in collector.describe()
    ]


# ---------------------------------------------------------------- who records what


def _symbols_of_collectors(collected: list[Collector]) -> dict[str, set[int]]:
    """`module.name` -> the collectors (by id) that name records: the module-level object where it
    is made, or a function or class of that module whose body uses one."""
    by_symbol: dict[str, set[int]] = defaultdict(set)
    idents = {id(c) for c in collected}
    for module in list(sys.modules.values()):
        if not _project_module(module):
            continue
        objects = {name: id(v) for name, v in vars(module).items() if id(v) in idents}
        if not objects:
            continue
        tree = ast.parse(inspect.getsource(module))
        assigned = {
            target.id
            for node in tree.body
            if isinstance(node, (ast.Assign, ast.AnnAssign))
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)
        }
        objects = {name: ident for name, ident in objects.items() if name in assigned}
        for name, ident in objects.items():
            by_symbol[f"{module.__name__}.{name}"].add(ident)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} & set(objects)
                for name in used:
                    by_symbol[f"{module.__name__}.{node.name}"].add(objects[name])
    return by_symbol


@dataclass
class Recorders:
    modules: set[str] = field(default_factory=set)  # the modules whose code records it
    processes: set[str] = field(default_factory=set)  # the processes that load one of them


def recorders(collected: list[Collector]) -> dict[int, Recorders]:
    """Collector id -> the modules that record it and the processes that load them."""
    by_symbol = _symbols_of_collectors(collected)
    defining = {symbol.rsplit(".", 1)[0] for symbol in by_symbol}
    recording: dict[str, set[int]] = defaultdict(set)  # module -> collectors it records
    packages = sorted({"common", *_code.processes().values()})
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            module = ".".join(parts)
            if module in defining:
                continue
            tree = ast.parse(path.read_text())
            imports = _code.imported_names(tree)
            for node in ast.walk(tree):
                if isinstance(node, (ast.Name, ast.Attribute)):
                    name = _code.dotted(node, imports)
                    if name in by_symbol:
                        recording[module] |= by_symbol[name]
    graph = grimp.build_graph(*packages, include_external_packages=False)
    found: dict[int, Recorders] = defaultdict(Recorders)
    for module, idents in recording.items():
        for ident in idents:
            found[ident].modules.add(module)
    for process, package in _code.processes().items():
        main = f"{package}.__main__"
        reached = {main, *graph.find_upstream_modules(main)}
        for module in reached:
            for ident in recording.get(module, ()):
                found[ident].processes.add(process)
    return found


# ---------------------------------------------------------------- the page


def _cell(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")


def render() -> str:
    collected = collectors()
    recorded = recorders(collected)
    rows = []
    for collector in collected:
        by = recorded.get(id(collector), Recorders())
        modules = ", ".join(f"`{m}`" for m in sorted(by.modules)) or "—"
        processes = ", ".join(sorted(by.processes)) or "—"
        for name, kind, labels, help_text in families(collector):
            label_list = ", ".join(f"`{label}`" for label in labels) or "—"
            rows.append(
                f"| `{name}` | {kind} | {label_list} | {_cell(help_text)} | {modules} "
                f"| {processes} |"
            )
    lines = [
        "# Metrics",
        "",
        "Every Prometheus series the system exports, as prometheus-client's registry holds "
        "them (`common/metrics/series.py` is the catalogue; the outbox backlog is read from "
        "MongoDB at scrape time by `common/metrics/outbox.py`). Each gRPC service serves them "
        "on `<SERVICE>_METRICS_PORT`, the gateway at `/metrics` on its admin port, its "
        "workers added up (prometheus-client's multiprocess mode). A histogram is scraped as "
        "`_bucket`, `_sum` and `_count` series; no `_created` series are exported.",
        "",
        "Every process's `/metrics` lists every family below; values appear where the code "
        "records them. *Recorded in* names the modules that do (read from the code by "
        "`tools/reference/metrics.py`); *processes* those whose `__main__` imports one of "
        "them. For a module of `common/` that is where the code can run, not that it does: "
        "every service loads the event consumer, and one that consumes no event (auth) never "
        "adds to its series. Besides these, each process exports prometheus-client's own "
        "`process_*`, `python_gc_*` and `python_info` (not in multiprocess mode, so not the "
        "gateway with more than one worker).",
        "",
        "| metric | type | labels | help | recorded in | processes |",
        "|---|---|---|---|---|---|",
        *sorted(rows),
    ]
    return "\n".join(lines) + "\n"
