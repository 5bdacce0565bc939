"""`make image`'s check: each image's size against its target, with what its base weighs and
what the Dockerfile adds to it. Exit 1 if an image is over its target.

    python -m tools.image_sizes [--docker docker] TARGET=IMAGE=MAX_MB ...

TARGET is the Dockerfile target IMAGE was built from (its base is read from the Dockerfile).

Sizes are Docker's (uncompressed, in MB of 10^6 bytes, as `docker images` shows them). An image
built on a local stand-in base (the `standin.for` label: ../shared/containers/engine) says so:
its base is not the official one, so neither is its size.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from dataclasses import dataclass

from tools.deploy_check.dockerfile import dockerfile_stages
from tools.deploy_check.model import ROOT

MB = 1_000_000


@dataclass(frozen=True)
class Measured:
    image: str
    size: int
    base: str
    base_size: int
    stand_in: str | None  # what the stand-in base really is, if it is one

    @property
    def added(self) -> int:
        return self.size - self.base_size


def base_image(target: str, dockerfile: str) -> str:
    """The image a Dockerfile target is built on, through the stages it is built FROM."""
    stages = dockerfile_stages(dockerfile)
    base = stages[target].base
    while base in stages:
        base = stages[base].base
    return base


def inspect(docker: list[str], image: str) -> dict:
    done = subprocess.run(
        [*docker, "image", "inspect", image], capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"docker image inspect {image}: {done.stderr.strip()}")
    return json.loads(done.stdout)[0]


def measure(docker: list[str], image: str, base: str) -> Measured:
    found, found_base = inspect(docker, image), inspect(docker, base)
    labels = found_base.get("Config", {}).get("Labels") or {}
    stand_in = labels.get("standin.real") if labels.get("standin.for") else None
    return Measured(image, found["Size"], base, found_base["Size"], stand_in)


def verdict(m: Measured, max_mb: int) -> tuple[bool, str]:
    ok = m.size <= max_mb * MB
    line = (
        f"{m.image}: {m.size / MB:.0f} MB ({'within' if ok else 'OVER'} its target of "
        f"{max_mb} MB) = base {m.base} {m.base_size / MB:.0f} MB + {m.added / MB:.0f} MB from "
        "the Dockerfile"
    )
    if m.stand_in:
        line += f"; the base here is a local stand-in ({m.stand_in}), not the official image"
    return ok, line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.image_sizes", description=__doc__)
    parser.add_argument("--docker", default="docker")
    parser.add_argument("targets", nargs="+", metavar="TARGET=IMAGE=MAX_MB")
    args = parser.parse_args(argv)
    docker = shlex.split(args.docker)
    dockerfile = (ROOT / "Dockerfile").read_text()
    failed = False
    for spec in args.targets:
        target, image, max_mb = spec.split("=")
        try:
            m = measure(docker, image, base_image(target, dockerfile))
        except (RuntimeError, OSError, KeyError) as exc:
            print(f"image sizes: {exc}", file=sys.stderr)
            return 1
        ok, line = verdict(m, int(max_mb))
        print(f"image sizes: {line}", file=sys.stdout if ok else sys.stderr)
        failed = failed or not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
