"""What each image must hold, checked against the code without Docker: the services image has no
numpy, SciPy or DuckDB (only insights needs them, in its own image), and no image has the dev
stack. Each process is started as its container starts it, in a Python that cannot import what
its image lacks. (`make compose-smoke` checks the built images themselves.)"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from common.processes import SERVICES
from tools.deploy_check.model import ROOT

INSIGHTS_ONLY = ("numpy", "scipy", "duckdb")
# Every package of the services image: a module-level import anywhere in them counts.
SERVICES_IMAGE_PACKAGES = (
    "common",
    "gateway",
    "svc_auth",
    "svc_tickets",
    "svc_orders",
    "svc_payments",
    "svc_expiration",
    "svc_catalogue",
    "svc_delivery",
    "svc_notifications",
)


def run_without(blocked: tuple[str, ...], code: str) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter where importing any of `blocked` (or below it) fails as
    if it were not installed."""
    prelude = textwrap.dedent(
        f"""
        import sys
        from importlib.abc import MetaPathFinder

        BLOCKED = {blocked!r}

        class NotInThisImage(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None

        sys.meta_path.insert(0, NotInThisImage())
        """
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_blocker_blocks() -> None:
    """The check below would pass vacuously if the blocker did not work."""
    done = run_without(INSIGHTS_ONLY, "import svc_insights.__main__")
    assert done.returncode != 0 and "No module named" in done.stderr, done.stderr


@pytest.mark.parametrize("service", [s for s in SERVICES if s.extra is None], ids=lambda s: s.name)
def test_a_services_process_starts_without_the_insights_packages(service) -> None:
    """What `ticketing serve NAME` imports before it serves, in a Python without numpy, SciPy
    and DuckDB: nothing of them is imported (their modules stay out of sys.modules)."""
    done = run_without(
        INSIGHTS_ONLY,
        f"""
        import importlib, sys
        importlib.import_module({service.module!r})
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not loaded, loaded
        """,
    )
    assert done.returncode == 0, done.stderr


def test_no_module_of_the_services_image_imports_the_insights_packages() -> None:
    """Every module of the packages the services run, imported one by one: none of them (nor
    anything they import) needs numpy, SciPy or DuckDB."""
    done = run_without(
        (*INSIGHTS_ONLY, "common.devstack"),
        f"""
        import importlib, pkgutil
        failed = []
        for package in {SERVICES_IMAGE_PACKAGES!r}:
            root = importlib.import_module(package)
            for module in pkgutil.walk_packages(root.__path__, package + "."):
                if module.name.startswith("common.devstack"):
                    continue  # not in any image (.dockerignore)
                try:
                    importlib.import_module(module.name)
                except ModuleNotFoundError as exc:
                    failed.append(f"{{module.name}}: {{exc}}")
        assert not failed, failed
        """,
    )
    assert done.returncode == 0, done.stderr


def test_insights_without_its_packages_says_which_image_has_them() -> None:
    done = run_without(INSIGHTS_ONLY, "from common.cli import main; main(['serve', 'insights'])")
    assert done.returncode == 1, done
    assert "insights needs the `insights` extra" in done.stderr, done.stderr
    assert "ticketing-insights image" in done.stderr, done.stderr


def test_ticketing_run_without_the_dev_stack_says_it_is_a_development_command() -> None:
    done = run_without(("common.devstack",), "from common.cli import main; main(['run'])")
    assert done.returncode == 1, done
    assert "ticketing run is a development command" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
