"""`make image`'s check: each image's size against its target, with what its base weighs and
what the Dockerfile adds to it. Exit 1 if an image is over its target.

    python -m tools.image_sizes [--docker docker] TARGET=IMAGE=MAX_MB ...

TARGET is the Dockerfile target IMAGE was built from (its base is read from the Dockerfile).

Sizes are Docker's (uncompressed, in MB of 10^6 bytes, as `docker images` shows them). An image
built on a local stand-in base (the `standin.for` label: ../shared/containers/engine) says so,
and what that base keeps in apt's download cache is not counted: official Debian-based images
keep none (their docker-clean apt configuration), a stand-in keeps about 90 MB. Everything else
of a stand-in counts, though it is not the official image either.
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
APT_CACHE = "/var/cache/apt"


@dataclass(frozen=True)
class Measured:
    image: str
    size: int
    base: str
    base_size: int
    stand_in: str | None  # what the stand-in base really is, if it is one
    apt_cache: int = 0  # bytes of the stand-in's apt download cache, not counted

    @property
    def added(self) -> int:
        return self.size - self.base_size

    @property
    def counted(self) -> int:
        return self.size - self.apt_cache


def base_image(target: str, dockerfile: str) -> str:
    """The image a Dockerfile target is built on, through the stages it is built FROM."""
    stages = dockerfile_stages(dockerfile)
    base = stages[target].base
    while base in stages:
        base = stages[base].base
    return base


def _docker(docker: list[str], *args: str) -> str:
    done = subprocess.run([*docker, *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"docker {shlex.join(args)}: {done.stderr.strip()}")
    return done.stdout


def measure(docker: list[str], image: str, base: str) -> Measured:
    found = json.loads(_docker(docker, "image", "inspect", image))[0]
    found_base = json.loads(_docker(docker, "image", "inspect", base))[0]
    labels = found_base.get("Config", {}).get("Labels") or {}
    if not labels.get("standin.for"):
        return Measured(image, found["Size"], base, found_base["Size"], None)
    du = ["run", "--rm", "--network", "none", "--entrypoint", "du", base, "-sb", APT_CACHE]
    apt_cache = int(_docker(docker, *du).split()[0])
    return Measured(
        image, found["Size"], base, found_base["Size"], labels.get("standin.real"), apt_cache
    )


def verdict(m: Measured, max_mb: int) -> tuple[bool, str]:
    ok = m.counted <= max_mb * MB
    line = (
        f"{m.image}: {m.size / MB:.1f} MB = base {m.base} {m.base_size / MB:.1f} MB + "
        f"{m.added / MB:.1f} MB from the Dockerfile"
    )
    if m.stand_in:
        line += (
            f"; the base here is a local stand-in ({m.stand_in}), not the official image, and "
            f"keeps {m.apt_cache / MB:.1f} MB of apt's download cache in {APT_CACHE}, which "
            f"official images do not: {m.counted / MB:.1f} MB counted"
        )
    return ok, f"{line}; {'within' if ok else 'OVER'} its target of {max_mb} MB"


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
        except (RuntimeError, OSError, KeyError, ValueError) as exc:
            print(f"image sizes: {exc}", file=sys.stderr)
            return 1
        ok, line = verdict(m, int(max_mb))
        print(f"image sizes: {line}", file=sys.stdout if ok else sys.stderr)
        failed = failed or not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
