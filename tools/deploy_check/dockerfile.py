"""The Dockerfile and .dockerignore against the processes and the lock file."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.deploy_check.model import ROOT, Process, load_processes

# ---------------------------------------------------------------- Dockerfile


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def lock_pin(root: Path, package: str) -> str | None:
    match = re.search(
        rf"^{re.escape(package)}==(\S+)", (root / "requirements-dev.lock").read_text(), re.M
    )
    return match.group(1) if match else None


# What never enters an image (.dockerignore): the dev stack (`ticketing run` starts SecantusDB,
# the Stripe stand-in and every process from a checkout), the tests and the tooling.
KEPT_OUT = (".git", ".venv", "gen", ".run", "tests", "tools", "bench", "common/devstack")
# Development-only packages of the checkout that the build context holds for their own
# dev-only image (deploy/stripe-standin.Dockerfile) but the services' distribution never
# packages (pyproject.toml's [tool.setuptools.packages.find] include), so `pip install .` in the
# service image leaves them out.
DEV_ONLY_PACKAGES = ("stripe_standin",)


@dataclass(frozen=True)
class Stage:
    name: str
    base: str  # an image, or an earlier stage
    instructions: list[tuple[str, str]]


def dockerfile_stages(text: str) -> dict[str, Stage]:
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for keyword, rest in dockerfile_instructions(text):
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else str(len(stages))
            current = stages[name] = Stage(name, words[0], [])
        elif current is not None:
            current.instructions.append((keyword, rest))
    return stages


def stage_instructions(stages: dict[str, Stage], name: str) -> list[tuple[str, str]]:
    """A stage's instructions with those of the stages it is built FROM before them."""
    stage = stages[name]
    inherited = stage_instructions(stages, stage.base) if stage.base in stages else []
    return [*inherited, *stage.instructions]


def parser_directives(text: str) -> list[str]:
    """The `# key=value` lines Docker reads as parser directives before the first instruction."""
    directives = []
    for line in text.splitlines():
        match = re.match(r"^#\s*([a-zA-Z]+)\s*=", line)
        if not match:
            break
        directives.append(match.group(1).lower())
    return directives


def check_dockerfile(root: Path = ROOT, processes: Sequence[Process] | None = None) -> list[str]:
    processes = load_processes() if processes is None else processes
    problems = []
    stages: dict[str, Stage] = {}
    for name, pins in (
        ("Dockerfile", {"GRPCIO_TOOLS_VERSION": "grpcio-tools"}),
        (
            "deploy/stripe-standin.Dockerfile",
            {
                "STARLETTE_VERSION": "starlette",
                "UVICORN_VERSION": "uvicorn",
                "HTTPX_VERSION": "httpx",
            },
        ),
    ):
        path = root / name
        if not path.exists():
            problems.append(f"{name}: missing")
            continue
        text = path.read_text()
        if "syntax" in parser_directives(text):
            problems.append(
                f"{name}: a `# syntax=` line makes BuildKit fetch that frontend from a registry; "
                "the built-in one needs none"
            )
        stages = dockerfile_stages(text)
        for stage in stages.values():
            image = stage.base
            if image in stages:
                continue
            if "@sha256:" not in image and not re.search(r":\d+\.\d+\.\d+", image):
                problems.append(f"{name}: FROM {image} is not pinned to a version")
        for keyword, rest in dockerfile_instructions(text):
            if keyword == "ARG":
                var, _, value = rest.partition("=")
                if var in pins and value != lock_pin(root, pins[var]):
                    problems.append(
                        f"{name}: ARG {var}={value}, but requirements-dev.lock pins "
                        f"{pins[var]}=={lock_pin(root, pins[var])}"
                    )
    stages = dockerfile_stages((root / "Dockerfile").read_text())
    targets = sorted({p.image_target for p in processes})
    for target in targets:
        if target not in stages:
            problems.append(
                f"Dockerfile: no target {target} (the image of {_runs(target, processes)})"
            )
            continue
        problems += _check_target(target, stage_instructions(stages, target), processes)
    build = [i for name, s in stages.items() if name not in targets for i in s.instructions]
    build_text = " ".join(rest for _, rest in build)
    if "requirements.lock" not in build_text or "--no-deps ." not in build_text:
        problems.append(
            "Dockerfile: the build stage should install requirements.lock, "
            "then the project with --no-deps"
        )
    if "grpc_tools.protoc" not in build_text:
        problems.append("Dockerfile: the build stage does not generate the gRPC stubs")
    ignore = root / ".dockerignore"
    if not ignore.exists():
        problems.append(".dockerignore: missing")
    else:
        for path in KEPT_OUT:
            if not dockerignored(ignore.read_text(), path):
                problems.append(f".dockerignore: {path} is sent to the build")
        for package in ["common", *(p.package for p in processes)]:
            if dockerignored(ignore.read_text(), package):
                problems.append(f".dockerignore: the package {package} is kept out of the image")
    problems += check_dev_packages_unpackaged(root)
    return problems


def check_dev_packages_unpackaged(root: Path = ROOT) -> list[str]:
    """No dev-only package is part of the distribution the service images install."""
    found = tomllib.loads((root / "pyproject.toml").read_text())
    include = found["tool"]["setuptools"]["packages"]["find"].get("include", ["*"])
    return [
        f"pyproject.toml: [tool.setuptools.packages.find] include {pattern!r} packages "
        f"{package}, a development-only package, into the service images"
        for package in DEV_ONLY_PACKAGES
        for pattern in include
        if fnmatch.fnmatch(package, pattern)
    ]


def _runs(target: str, processes: Sequence[Process]) -> str:
    return ", ".join(p.name for p in processes if p.image_target == target)


def _check_target(
    target: str, final: list[tuple[str, str]], processes: Sequence[Process]
) -> list[str]:
    where = f"Dockerfile: target {target}"
    problems = []
    final_text = " ".join(rest for _, rest in final)
    exposed = {int(p.split("/")[0]) for k, rest in final if k == "EXPOSE" for p in rest.split()}
    wanted = {p.port for p in processes} | {p.metrics_port for p in processes}
    if exposed != wanted:
        problems.append(
            f"{where}: EXPOSE {sorted(exposed)} differs from the processes' ports "
            f"{sorted(wanted)} (the *_port and *_metrics_port settings)"
        )
    entrypoints = [rest for k, rest in final if k == "ENTRYPOINT"]
    if not entrypoints or json.loads(entrypoints[-1]) != ["ticketing", "serve"]:
        problems.append(f'{where}: the ENTRYPOINT should be ["ticketing", "serve"]')
    users = [rest for k, rest in final if k == "USER"]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        problems.append(f"{where}: does not switch to a non-root USER")
    if "PYTHONUNBUFFERED=1" not in final_text:
        problems.append(f"{where}: does not set PYTHONUNBUFFERED=1")
    for dev in ("requirements-dev.lock", "grpcio-tools", "secantus", *DEV_ONLY_PACKAGES):
        if dev in final_text:
            problems.append(f"{where}: mentions {dev}; dev tools stay out")
    return problems


def dockerignored(patterns: str, path: str) -> bool:
    """Whether .dockerignore keeps `path` out: the last pattern that matches it or a folder
    above it wins (`*` then `!common/` then `common/devstack` keeps common/devstack out)."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for line in patterns.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        if any(fnmatch.fnmatch(candidate, pattern) for candidate in candidates):
            ignored = not negate
    return ignored
