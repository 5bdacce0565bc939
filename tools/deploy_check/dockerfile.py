"""The Dockerfile and .dockerignore against the processes and the lock file."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
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


def check_dockerfile(root: Path = ROOT, processes: Sequence[Process] | None = None) -> list[str]:
    processes = load_processes() if processes is None else processes
    problems = []
    for name, pins in (
        ("Dockerfile", {"GRPCIO_TOOLS_VERSION": "grpcio-tools"}),
        ("deploy/localstripe.Dockerfile", {"LOCALSTRIPE_VERSION": "localstripe"}),
    ):
        path = root / name
        if not path.exists():
            problems.append(f"{name}: missing")
            continue
        instructions = dockerfile_instructions(path.read_text())
        for keyword, rest in instructions:
            if keyword == "FROM":
                image = rest.split()[0]
                if "@sha256:" not in image and not re.search(r":\d+\.\d+\.\d+", image):
                    problems.append(f"{name}: FROM {image} is not pinned to a version")
            if keyword == "ARG":
                var, _, value = rest.partition("=")
                if var in pins and value != lock_pin(root, pins[var]):
                    problems.append(
                        f"{name}: ARG {var}={value}, but requirements-dev.lock pins "
                        f"{pins[var]}=={lock_pin(root, pins[var])}"
                    )
    instructions = dockerfile_instructions((root / "Dockerfile").read_text())
    stages = [i for i, (k, _) in enumerate(instructions) if k == "FROM"]
    final = instructions[stages[-1] :] if stages else []
    build = instructions[: stages[-1]] if stages else []
    final_text = " ".join(rest for _, rest in final)
    exposed = {int(p.split("/")[0]) for k, rest in final if k == "EXPOSE" for p in rest.split()}
    wanted = {p.port for p in processes} | {p.metrics_port for p in processes}
    if exposed != wanted:
        problems.append(
            f"Dockerfile: EXPOSE {sorted(exposed)} differs from the processes' ports "
            f"{sorted(wanted)} (the *_port and *_metrics_port settings)"
        )
    entrypoints = [rest for k, rest in final if k == "ENTRYPOINT"]
    if not entrypoints or json.loads(entrypoints[-1]) != ["ticketing", "serve"]:
        problems.append(
            'Dockerfile: the final stage\'s ENTRYPOINT should be ["ticketing", "serve"]'
        )
    users = [rest for k, rest in final if k == "USER"]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        problems.append("Dockerfile: the final stage does not switch to a non-root USER")
    if "PYTHONUNBUFFERED=1" not in final_text:
        problems.append("Dockerfile: the final stage does not set PYTHONUNBUFFERED=1")
    for dev in ("requirements-dev.lock", "grpcio-tools", "secantus", "localstripe"):
        if dev in final_text:
            problems.append(f"Dockerfile: the final stage mentions {dev}; dev tools stay out")
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
        for path in (".git", ".venv", "gen", ".run", "tests"):
            if not dockerignored(ignore.read_text(), path):
                problems.append(f".dockerignore: {path} is sent to the build")
        for package in ["common", *(p.package for p in processes)]:
            if dockerignored(ignore.read_text(), package):
                problems.append(f".dockerignore: the package {package} is kept out of the image")
    return problems


def dockerignored(patterns: str, path: str) -> bool:
    """Whether .dockerignore keeps a top-level `path` out (last matching pattern wins)."""
    import fnmatch

    ignored = False
    for line in patterns.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern):
            ignored = not negate
    return ignored
