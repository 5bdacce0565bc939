"""`make docker-versions`: the Docker Engine and Compose here are at least the oldest ones the
images and docker-compose.yml are run on (docs/deploying.md, Versions). Exit 1 naming what is
too old.

    python -m tools.docker_versions [--docker docker] [--compose "docker compose"]
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys

# The oldest ones `make compose-smoke` has run on; docs/deploying.md states the same.
MIN_ENGINE = "20.10"
MIN_COMPOSE = "5.6.1"


def version_tuple(text: str) -> tuple[int, ...]:
    """The leading dotted numbers of a version: `20.10.24+dfsg1` -> (20, 10, 24)."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", text)
    if not match:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(part) for part in match.group(1).split("."))


def at_least(found: str, minimum: str) -> bool:
    return version_tuple(found) >= version_tuple(minimum)


def _ask(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"`{shlex.join(argv)}` failed: {done.stderr.strip()}")
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.docker_versions", description=__doc__)
    parser.add_argument("--docker", default="docker")
    parser.add_argument("--compose", default="docker compose")
    args = parser.parse_args(argv)
    try:
        engine = _ask([*shlex.split(args.docker), "version", "--format", "{{.Server.Version}}"])
        compose = _ask([*shlex.split(args.compose), "version", "--short"])
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"docker-versions: no Docker engine or Compose answers: {exc}", file=sys.stderr)
        return 1
    problems = [
        f"{what} {found} is older than {minimum}, the oldest this repository supports"
        for what, found, minimum in (
            ("Docker Engine", engine, MIN_ENGINE),
            ("Docker Compose", compose, MIN_COMPOSE),
        )
        if not at_least(found, minimum)
    ]
    for problem in problems:
        print(f"docker-versions: {problem} (docs/deploying.md, Versions)", file=sys.stderr)
    if not problems:
        print(
            f"docker-versions: ok -- Docker Engine {engine} (>= {MIN_ENGINE}), "
            f"Compose {compose} (>= {MIN_COMPOSE})"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
