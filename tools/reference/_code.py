"""What the reference pages read from the code itself: the processes of the system and the
names their modules use, by parsing the source (nothing is imported or run).

A process is a package that runs as one (`svc_<name>/`, named `<name>`, and `gateway/`). Its
"rooms" are the subpackages every service has (CONTRIBUTING, Layout); the pages use them to tell
the side of a service that writes its events (`domain/`, `adapters/`) from the side that handles
what it receives (`entrypoints/`, `service_layer/`, the wiring in `bootstrap.py`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.reference import ROOT

# Where a service's own events are written: its aggregates record them, its adapters write them.
WRITING_ROOMS = ("domain", "adapters")


@dataclass(frozen=True)
class SourceModule:
    process: str
    name: str  # dotted, e.g. svc_orders.service_layer.handlers
    path: Path
    tree: ast.Module

    @property
    def room(self) -> str:
        parts = self.name.split(".")
        return parts[1] if len(parts) > 2 else ""


def processes(root: Path | None = None) -> dict[str, str]:
    """Process name -> its package: `svc_orders` runs as `orders`, `gateway` as `gateway`."""
    root = root or ROOT
    found = {"gateway": "gateway"} if (root / "gateway" / "__main__.py").exists() else {}
    for main in sorted(root.glob("svc_*/__main__.py")):
        package = main.parent.name
        found[package.removeprefix("svc_")] = package
    return dict(sorted(found.items()))


def process_modules(root: Path | None = None) -> Iterator[SourceModule]:
    """Every module of every process, parsed, in path order."""
    root = root or ROOT
    for process, package in processes(root).items():
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).with_suffix("")
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield SourceModule(process, ".".join(parts), path, ast.parse(path.read_text()))


def imported_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> the dotted name it was imported as, for every import in the module (at any
    depth: a function-local import counts)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def dotted(node: ast.AST, imports: dict[str, str]) -> str | None:
    """The dotted name an expression such as `events.OrderCreated` refers to, through the
    module's imports; None for anything else."""
    attributes: list[str] = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in imports:
        return None
    return ".".join([imports[node.id], *reversed(attributes)])


def annotation_nodes(tree: ast.Module) -> set[int]:
    """The ids of every node inside a type annotation (a name there is a type, not a use)."""
    inside: set[int] = set()

    def mark(annotation: ast.AST | None) -> None:
        if annotation is not None:
            inside.update(id(n) for n in ast.walk(annotation))

    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            mark(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
        elif isinstance(node, ast.AnnAssign):
            mark(node.annotation)
    return inside
