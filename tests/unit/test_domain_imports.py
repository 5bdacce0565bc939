"""Domain code knows nothing of the wire: importing any module of a service's `domain/` package
loads no gRPC, protobuf, RabbitMQ, MongoDB, Redis, JWT or cryptography library, and importing
its `service_layer/` loads neither pika nor pymongo (handlers depend on ports the bootstrap wires
to adapters).

Every `svc_*/domain` and `svc_*/service_layer` package is found on disk, so a new service is
covered without editing this test. Each module is imported in a fresh interpreter
(`sys.executable`) with a meta-path finder that records which module imported which; a failure
names the module, the library, and the chain of imports that pulled it in.

Allowed: the standard library and the project's own domain code (`common.errors`,
`common.money`, `common.roles`, ...). numpy and scipy, which insights' recommender
(`svc_insights/domain/recommender/`) computes with, are mathematics, not wire: allowed.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What the domain must not load, by package (a dotted name covers its submodules).
WIRE = ("grpc", "google.protobuf", "pika", "pymongo", "redis", "jwt", "cryptography")
# What the service layer must not load: handlers reach the broker and the database through ports.
INFRASTRUCTURE = ("pika", "pymongo")

# Run in a fresh interpreter: argv[1] the module to import, argv[2] the forbidden packages.
# Prints {package: [the module, ..., the package]} for every forbidden package that got loaded.
PROBE = r"""
import importlib, json, sys

target, forbidden = sys.argv[1], sys.argv[2].split(",")
importer_of = {}

class RecordImporter:
    # Asked first for every module not loaded yet: notes who asked, then lets the others find it.
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name not in importer_of:
            frame = sys._getframe(1)
            while frame is not None and frame.f_globals.get("__name__", "").startswith(
                ("importlib", "_frozen_importlib")
            ):
                frame = frame.f_back
            importer_of[name] = frame.f_globals.get("__name__") if frame else None
        return None

sys.meta_path.insert(0, RecordImporter)
importlib.import_module(target)

def chain(name):
    links = [name]
    while links[-1] in importer_of and links[-1] != target:
        parent = importer_of[links[-1]]
        if parent in (None, "__main__") or parent in links:
            break
        links.append(parent)
    return list(reversed(links))

loaded = {}
for package in forbidden:
    if package in sys.modules:
        loaded[package] = chain(package)
print(json.dumps(loaded))
"""


def modules_of(layer: str) -> list[str]:
    """Every module of every `svc_*/<layer>` package, by dotted name, in name order."""
    names = []
    for package in sorted(ROOT.glob(f"svc_*/{layer}/__init__.py")):
        prefix = f"{package.parent.parent.name}.{layer}"
        names.append(prefix)
        for info in pkgutil.walk_packages([str(package.parent)], prefix=f"{prefix}."):
            names.append(info.name)
    return sorted(names)


def forbidden_loads(module: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, module, ",".join(forbidden)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"importing {module} failed:\n{done.stderr}"
    return json.loads(done.stdout)


def explain(module: str, loaded: dict[str, list[str]]) -> str:
    lines = [f"importing {module} loaded what it must not:"]
    for package, chain in sorted(loaded.items()):
        lines.append(f"  {package}: {' -> '.join(chain)}")
    return "\n".join(lines)


DOMAIN_MODULES = modules_of("domain")
SERVICE_LAYER_MODULES = modules_of("service_layer")


def test_every_service_has_its_domain_and_service_layer_probed() -> None:
    services = {p.name for p in ROOT.glob("svc_*") if (p / "__init__.py").exists()}
    assert services, "no service found"
    assert {m.split(".")[0] for m in DOMAIN_MODULES} == services
    assert {m.split(".")[0] for m in SERVICE_LAYER_MODULES} == services


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_a_domain_module_loads_nothing_of_the_wire(module: str) -> None:
    loaded = forbidden_loads(module, WIRE)
    assert not loaded, explain(module, loaded)


@pytest.mark.parametrize("module", SERVICE_LAYER_MODULES)
def test_a_service_layer_module_loads_no_broker_or_database_driver(module: str) -> None:
    loaded = forbidden_loads(module, INFRASTRUCTURE)
    assert not loaded, explain(module, loaded)


def test_the_probe_names_the_chain_that_pulled_a_library_in() -> None:
    """The probe itself can fail: a module known to load grpc is reported with its chain."""
    loaded = forbidden_loads("common.grpc_errors", ("grpc", "pika"))
    assert set(loaded) == {"grpc"}
    assert loaded["grpc"] == ["common.grpc_errors", "grpc"]
