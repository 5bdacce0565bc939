"""Fail on any import cycle among the project's own modules (`make lint`).

The import graph comes from grimp (the graph library behind import-linter): every `import` in a
module counts, at module level or inside a function, since an import moved into a function to
dodge a cycle is still a cycle in the design. Imports under `if TYPE_CHECKING:` do not count:
they never run.

A cycle is a strongly connected component of that graph with more than one module; each one is
reported with one concrete loop through it, and the file and line of every import on the loop.

    python -m tools.import_cycles                 # the project's packages
    python -m tools.import_cycles --root DIR PKG  # other packages, found under DIR
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent

# Every package of ours, tests too; the generated protobuf code (gen/) is not ours.
PROJECT_PACKAGES = (
    "bench",
    "common",
    "gateway",
    "stripe_standin",
    "svc_auth",
    "svc_catalogue",
    "svc_delivery",
    "svc_expiration",
    "svc_insights",
    "svc_orders",
    "svc_payments",
    "svc_tickets",
    "tests",
    "tools",
)


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm, iteratively; the components of more than one module, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work: list[tuple[str, Iterable[str]]] = []
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        work.append((start, iter(sorted(graph.find_modules_directly_imported_by(start)))))
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.find_modules_directly_imported_by(succ)))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def one_loop(graph: grimp.ImportGraph, component: Sequence[str]) -> list[str]:
    """A shortest loop from the component's first module back to itself: [a, b, ..., a]."""
    first = component[0]
    best: tuple[str, ...] | None = None
    for succ in sorted(graph.find_modules_directly_imported_by(first)):
        if succ not in component:
            continue
        chain = graph.find_shortest_chain(importer=succ, imported=first)
        if chain is not None and (best is None or len(chain) < len(best)):
            best = chain
    assert best is not None, component
    return [first, *best]


def describe(graph: grimp.ImportGraph, component: Sequence[str]) -> str:
    loop = one_loop(graph, component)
    lines = [f"import cycle: {' -> '.join(loop)}"]
    for importer, imported in itertools.pairwise(loop):
        details = graph.get_import_details(importer=importer, imported=imported)
        where = ", ".join(f"line {d['line_number']}" for d in details) or "?"
        lines.append(f"    {importer} imports {imported} ({where})")
    if len(component) > len(loop) - 1:
        lines.append(f"    (all modules in this cycle: {', '.join(component)})")
    return "\n".join(lines)


def find_cycles(packages: Sequence[str], root: Path) -> list[str]:
    """One message per cycle among `packages` (importable from `root`); none when acyclic."""
    sys.path.insert(0, str(root))
    try:
        graph = grimp.build_graph(*packages, exclude_type_checking_imports=True, cache_dir=None)
    finally:
        sys.path.remove(str(root))
    return [describe(graph, component) for component in strongly_connected(graph)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the directory packages are in")
    parser.add_argument("packages", nargs="*", help="packages to check (default: the project's)")
    args = parser.parse_args(argv)
    cycles = find_cycles(args.packages or PROJECT_PACKAGES, args.root.resolve())
    for message in cycles:
        print(message, file=sys.stderr)
    if cycles:
        print(
            f"{len(cycles)} import cycle(s): move the shared code to a module both sides import.",
            file=sys.stderr,
        )
        return 1
    print("import cycles: none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
