"""What a newcomer types works as printed: the grpcurl line of `ticketing run`'s banner, the
grpcurl walk-through of docs/grpcurl.md (its ports swapped for the test stack's) and the examples of
`ticketing --help`, each run from the repository root exactly as shown."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pika.exceptions

from common import bus
from common.config import CommonSettings
from common.processes import EVENT_CONSUMERS, GRPC_SERVICES

ROOT = Path(__file__).resolve().parents[2]


def typed(command: str, env: dict[str, str] | None = None, timeout: float = 60):
    """`command` as a newcomer types it into bash at the repository root, in a shell where no
    virtualenv is activated (nothing of .venv/bin on PATH)."""
    path = os.pathsep.join(
        p for p in os.environ.get("PATH", os.defpath).split(os.pathsep) if ".venv" not in p
    )
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=ROOT,
        env={**os.environ, "PATH": path, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_grpcurl_line_of_the_banner_lists_the_services(stack):
    [command] = re.findall(r"\] gRPC: +(.+)", stack.output())
    assert command.endswith(f"grpcurl -plaintext localhost:{stack.port('auth')} list")
    listed = typed(command)
    assert listed.returncode == 0, listed.stderr
    assert "ticketing.auth.v1.AuthService" in listed.stdout.split()
    assert "grpc.health.v1.Health" in listed.stdout.split()


def grpcurl_walkthrough() -> str:
    """The first bash block of docs/grpcurl.md, the walk-through a newcomer runs."""
    page = (ROOT / "docs" / "grpcurl.md").read_text()
    return page.split("```bash\n", 1)[1].split("```", 1)[0]


def test_the_docs_grpcurl_walkthrough_runs_top_to_bottom(stack):
    script = grpcurl_walkthrough()
    defaults = CommonSettings.from_env({})
    for service in GRPC_SERVICES:
        default = getattr(defaults, f"{service.name}_port")
        script = script.replace(f"localhost:{default}", f"localhost:{stack.port(service.name)}")
    assert "localhost:500" not in script  # every port is the test stack's
    # `ticketing service-token` finds the stack's keys in its run directory (.run for `make run`).
    ran = typed(script, env={"TICKETING_RUN_DIR": str(stack.run_dir)}, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert '"state": "EXPIRATION_STATE_SCHEDULED"' in ran.stdout  # GetExpiration found it
    assert ran.stdout.rstrip().endswith("refused, as expected")
    assert "Code: FailedPrecondition" in ran.stderr and '"reason":"CONFLICT"' in ran.stderr


def test_the_examples_of_ticketing_help_run_as_printed(stack):
    shown = typed(".venv/bin/ticketing --help")
    assert shown.returncode == 0, shown.stderr
    examples = shown.stdout.split("examples (from the repository root):\n", 1)[1]
    commands = [line.split("  #", 1)[0].strip() for line in examples.splitlines() if line]
    assert [c.split("ticketing ", 1)[1] for c in commands] == [
        "run",
        "demo",
        "events dead payments",
        "events replay payments",
    ]
    # `run` is what the stack fixture runs; `demo` has a test of its own (tests/e2e/test_demo.py,
    # a smaller one: the default takes a minute or more); the others run beside the stack,
    # finding its namespace and broker in its state (its run directory is a temporary one,
    # `.run` for `make run`).
    for command in commands[2:]:
        ran = typed(command, env={"TICKETING_RUN_DIR": str(stack.run_dir)})
        assert ran.returncode == 0, ran.stderr
        assert "no dead-lettered events for payments" in ran.stdout + ran.stderr


def test_every_service_ticketing_events_takes_has_its_queue(stack, amqp_url):
    connection = bus.connect(amqp_url)
    try:
        for service in EVENT_CONSUMERS:
            connection.channel().queue_declare(
                bus.queue_name(stack.namespace, service), passive=True
            )
        channel = connection.channel()
        try:
            channel.queue_declare(bus.queue_name(stack.namespace, "auth"), passive=True)
            raise AssertionError("auth has a queue: it consumes events, add it to the choices")
        except pika.exceptions.ChannelClosedByBroker as exc:
            assert exc.reply_code == 404
    finally:
        connection.close()
