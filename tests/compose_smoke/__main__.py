"""`make compose-smoke`: docker-compose.yml as docs/deploying.md runs it -- the images built, `up
--wait` (which must exit 0), then from the host a whole purchase through the gateway paid by card
through the Stripe stand-in, the buyer's subscription seeing it complete, and what the images
hold -- and always `down -v` at the end. Prints how long each step took; exits 1 on any failure.

    python -m tests.compose_smoke [--compose "docker compose -p NAME -f docker-compose.yml ..."]

The published ports are free ones unless GATEWAY_PUBLISHED_PORT, RABBITMQ_UI_PUBLISHED_PORT or
STRIPE_STANDIN_PUBLISHED_PORT are set; TICKETING_IMAGE_TAG names the images' tag (default dev).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from common.ports import free_port
from tests.compose_smoke.purchase import image_contents, purchase

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED_PORTS = (
    "GATEWAY_PUBLISHED_PORT",
    "RABBITMQ_UI_PUBLISHED_PORT",
    "STRIPE_STANDIN_PUBLISHED_PORT",
)
UP_TIMEOUT_SECONDS = 300
RABBITMQ_UI_USER = ("ticketing", "ticketing")  # docker-compose.yml's throwaway


class Smoke:
    def __init__(self, compose: list[str], log: Path) -> None:
        self.compose = compose
        self.log = log
        self.timings: list[tuple[str, float]] = []

    @contextmanager
    def timed(self, what: str) -> Iterator[None]:
        started = time.monotonic()
        say(f"{what} ...")
        try:
            yield
        finally:
            self.timings.append((what, time.monotonic() - started))

    def run(self, *args: str) -> str:
        """A compose command; its output goes to the log, and is returned."""
        command = [*self.compose, *args]
        with self.log.open("a") as out:
            out.write(f"\n$ {shlex.join(command)}\n")
            out.flush()
            done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=out, text=True)
            out.write(done.stdout)
        if done.returncode != 0:
            raise SmokeFailed(f"`{shlex.join(command)}` exited {done.returncode}")
        return done.stdout

    def report(self) -> None:
        width = max(len(what) for what, _ in self.timings)
        for what, seconds in self.timings:
            print(f"  {what.ljust(width)}  {seconds:6.1f} s")
        print(f"  {'total'.ljust(width)}  {sum(s for _, s in self.timings):6.1f} s")


class SmokeFailed(RuntimeError):
    pass


def say(message: str) -> None:
    print(f"[compose-smoke] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.compose_smoke", description=__doc__)
    parser.add_argument(
        "--compose",
        default="docker compose -p ticketing-smoke -f docker-compose.yml",
        help="the compose command, with its project name and files",
    )
    parser.add_argument("--docker", default="docker", help="the docker command (docker run)")
    args = parser.parse_args(argv)
    # make (or CI) stopping us still tears the stack down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for variable in PUBLISHED_PORTS:
        os.environ.setdefault(variable, str(free_port()))
    tag = os.environ.setdefault("TICKETING_IMAGE_TAG", "dev")
    log = Path(tempfile.mkdtemp(prefix="compose-smoke-")) / "compose.log"
    smoke = Smoke(shlex.split(args.compose), log)
    ports = ", ".join(f"{v}={os.environ[v]}" for v in PUBLISHED_PORTS)
    say(f"{args.compose}; {ports}; TICKETING_IMAGE_TAG={tag}; compose output in {log}")
    failed = True
    try:
        with smoke.timed("build the images"):
            smoke.run("build")
        with smoke.timed("up --wait (every service healthy)"):
            smoke.run("up", "--wait", "--wait-timeout", str(UP_TIMEOUT_SECONDS))
        gateway = smoke.run("port", "gateway", "8000").strip()
        base_url = f"http://{gateway}"
        with smoke.timed("purchase and subscription through the gateway"):
            with httpx.Client(base_url=base_url, timeout=30) as client:
                purchase(client, base_url, say)
        rabbitmq_ui = smoke.run("port", "rabbitmq", "15672").strip()
        overview = httpx.get(f"http://{rabbitmq_ui}/api/overview", auth=RABBITMQ_UI_USER)
        assert overview.status_code == 200, f"RabbitMQ UI: HTTP {overview.status_code}"
        say(f"RabbitMQ UI answers on http://{rabbitmq_ui}")
        with smoke.timed("image contents"):
            docker = shlex.split(args.docker)
            image_contents(docker, f"ticketing:{tag}", f"ticketing-insights:{tag}")
            say("services image: no numpy, SciPy, DuckDB; insights image: all three")
            say("`ticketing run` in the image: refused as a development command")
        failed = False
    except (SmokeFailed, AssertionError, httpx.HTTPError, OSError) as exc:
        say(f"FAILED: {exc!r}")
        _show_state(smoke)
    finally:
        with smoke.timed("down -v"):
            try:
                smoke.run("down", "--volumes", "--remove-orphans")
            except SmokeFailed as exc:
                say(f"FAILED to tear down: {exc}")
                failed = True
        smoke.report()
    say("FAILED" if failed else "ok")
    return 1 if failed else 0


def _show_state(smoke: Smoke) -> None:
    """What a failure needs to be understood: the containers and their last lines."""
    for args in (("ps", "--all"), ("logs", "--no-color", "--tail", "30")):
        try:
            print(smoke.run(*args))
        except SmokeFailed as exc:
            say(str(exc))
    tail = smoke.log.read_text(errors="replace").splitlines()[-40:]
    print("\n".join(["--- the compose log's last lines ---", *tail]))


if __name__ == "__main__":
    sys.exit(main())
