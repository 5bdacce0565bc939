"""`ticketing run` as a developer's machine runs it, with its own RabbitMQ and Redis (nothing
answers at AMQP_URL and REDIS_URL), a namespace of its own and the limits it sets itself: what
it starts listens on 127.0.0.1 only, its database keeps what it acknowledged through a SIGKILL,
one address may sign up again and again, and `ticketing users` / `ticketing events` find the
stack's namespace, database and broker in its state. Also: taken MongoDB and Stripe ports are
refused before anything starts."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pika
import psutil
import pymongo
import pytest

from common.run_state import SHARED_SETTINGS
from tests.chaos.writes import AcknowledgedWrites
from tests.support.ids import raw_id
from tests.support.servers import free_port
from tests.support.stack import PORT_SETTINGS, RunningStack, graphql, start_stack

pytestmark = pytest.mark.e2e

SIGNUP = (
    'mutation($e: String!) { signUp(input: {email: $e, password: "s3cret-pass"}) '
    "{ token userErrors { code field } } }"
)
CREATE_TICKET = (
    "mutation($t: String!, $k: String!) { createTicket(input: {title: $t, idempotencyKey: $k, "
    'price: {amount: "12", currencyCode: USD}}) { ticket { id } userErrors { code field } } }'
)
TICKETING = str(Path(sys.executable).parent / "ticketing")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[RunningStack]:
    nowhere = {
        "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    running = start_stack(
        tmp_path_factory.mktemp("own"), nowhere, timeout=180, rate_limits_off=False
    )
    yield running
    running.stop()


def _signup(client: httpx.Client) -> dict:
    return graphql(client, SIGNUP, e=f"u{uuid.uuid4().hex[:12]}@example.com")


def _is_127_0_0_1(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address) == ipaddress.ip_address("127.0.0.1")


def test_everything_it_starts_listens_on_127_0_0_1_only(stack):
    root = psutil.Process(stack.proc.pid)
    listening: dict[tuple[str, int], str] = {}
    for process in [root, *root.children(recursive=True)]:
        for connection in process.net_connections(kind="tcp"):
            if connection.status == psutil.CONN_LISTEN:
                listening[(connection.laddr.ip, connection.laddr.port)] = process.name()

    settings = stack.state()["settings"]
    expected = {int(value) for name, value in settings.items() if name.endswith("_PORT")}
    expected |= {urlsplit(settings[name]).port for name in ("AMQP_URL", "REDIS_URL")}
    assert {"MONGO_PORT", "STRIPE_PORT", "GATEWAY_PORT", "AUTH_PORT"} <= set(settings)
    assert expected <= {port for _, port in listening}, listening
    elsewhere = [(ip, port) for ip, port in listening if not _is_127_0_0_1(ip)]
    assert elsewhere == [], listening


def test_one_address_signs_up_again_and_again_and_the_banner_says_the_limits(stack):
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        results = [_signup(client) for _ in range(12)]  # the production limit: 10 an hour
    assert [r.get("errors") for r in results] == [None] * 12
    assert [r["data"]["signUp"]["userErrors"] for r in results] == [[]] * 12
    assert all(r["data"]["signUp"]["token"] for r in results)
    banner = next(line for line in stack.output().splitlines() if "Limits:" in line)
    assert "sign-up per address off" in banner
    assert "GraphQL per address off" in banner
    assert "sign-in per account 10/900s" in banner  # still tells accounts apart


def _beside(stack: RunningStack, *args: str) -> subprocess.CompletedProcess:
    """A `ticketing` command run beside the stack: its run directory, none of its settings."""
    env = {k: v for k, v in os.environ.items() if k not in SHARED_SETTINGS}
    env["TICKETING_RUN_DIR"] = str(stack.run_dir)
    return subprocess.run([TICKETING, *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_cli_finds_the_stack_s_namespace_database_and_broker(stack):
    assert stack.namespace != "ticketing"
    email = f"ops{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        signed_up = graphql(client, SIGNUP, e=email)
        assert signed_up.get("errors") is None and signed_up["data"]["signUp"]["token"], signed_up

    granted = _beside(stack, "users", "grant-admin", email)
    assert granted.returncode == 0, granted.stderr
    assert granted.stdout.startswith(f"{email} (user ")

    # A dead letter in the stack's namespace, on its private broker.
    dead_queue = f"{stack.namespace}.orders.dead"
    connection = pika.BlockingConnection(pika.URLParameters(stack.setting("AMQP_URL")))
    try:
        channel = connection.channel()
        channel.queue_declare(dead_queue, passive=True)  # orders declared it
        marker = f"probe-{uuid.uuid4().hex[:8]}"
        channel.basic_publish(
            "", dead_queue, b"{}", pika.BasicProperties(message_id=marker, type="test.probe")
        )
        shown = _beside(stack, "events", "dead", "orders")
        channel.queue_purge(dead_queue)
    finally:
        connection.close()
    assert shown.returncode == 0, shown.stderr
    assert [json.loads(line)["event_id"] for line in shown.stdout.splitlines()] == [marker]


def test_a_state_file_left_by_a_killed_stack_is_not_trusted(tmp_path):
    # What a `ticketing run` killed outright leaves: its state, and a lock nobody holds.
    state = {"pid": 999999, "ready": True, "settings": {"TICKETING_NAMESPACE": "gone"}}
    (tmp_path / "stack.json").write_text(json.dumps(state))
    (tmp_path / "lock").write_text("999999")
    env = {k: v for k, v in os.environ.items() if k not in SHARED_SETTINGS}
    done = subprocess.run(
        [TICKETING, "events", "dead", "orders"],
        env={**env, "TICKETING_RUN_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "left over from a `ticketing run` that no longer runs (pid 999999)" in done.stderr


def test_the_database_keeps_every_acknowledged_write_through_a_sigkill(stack):
    # Four writers flat out: without sync-on-commit a kill lost 11-19 of what they were told.
    writes = AcknowledgedWrites(stack.setting("MONGO_URL"), stack.namespace, 4, interval=0)
    tickets: list[str] = []
    stop = threading.Event()

    def sell() -> None:  # tickets through the whole stack, each one the seller was told of
        with httpx.Client(base_url=stack.base_url, timeout=30) as client:
            token = _signup(client)["data"]["signUp"]["token"]
            while not stop.is_set():
                try:
                    made = graphql(client, CREATE_TICKET, token, t="Kept", k=str(uuid.uuid4()))
                except (AssertionError, httpx.HTTPError):
                    continue
                payload = (made.get("data") or {}).get("createTicket") or {}
                if payload.get("ticket"):
                    tickets.append(raw_id(payload["ticket"]["id"], "Ticket"))

    seller = threading.Thread(target=sell)
    writes.start()
    seller.start()
    try:
        time.sleep(3)
        old = stack.child_pids()["mongo"]
        killed_at = time.time()
        os.kill(old, signal.SIGKILL)
        stack.restarted("mongo", old)
        deadline = time.monotonic() + 60
        while writes.since(killed_at) < 50 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        seller.join(60)
        writes.stop()
    assert writes.since(killed_at) >= 50, stack.output()[-3000:]
    acknowledged = len(writes.acknowledged)
    lost = writes.lost()
    assert lost == [], f"{len(lost)} of {acknowledged} acknowledged writes lost"

    with pymongo.MongoClient(stack.setting("MONGO_URL")) as client:
        kept = client[f"{stack.namespace}_tickets"].tickets.distinct("_id")
    assert tickets and set(tickets) <= set(kept)


def _taken_port() -> tuple[socket.socket, int]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder, holder.getsockname()[1]


def test_taken_database_and_stripe_ports_are_refused_before_anything_starts(tmp_path):
    mongo_holder, mongo_port = _taken_port()
    stripe_holder, stripe_port = _taken_port()
    ports = {setting: str(free_port()) for setting in (*PORT_SETTINGS, "GATEWAY_PORT")}
    ports |= {"MONGO_PORT": str(mongo_port), "STRIPE_PORT": str(stripe_port)}
    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URL", "STRIPE_API_BASE")}
    with mongo_holder, stripe_holder:
        done = subprocess.run(
            [TICKETING, "run"],
            env={**env, **ports, "TICKETING_RUN_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stdout
    assert f"port {mongo_port} (MONGO_PORT) is already in use" in done.stdout
    assert f"port {stripe_port} (STRIPE_PORT) is already in use" in done.stdout
    assert "nothing was started" in done.stdout
    assert "starting" not in done.stdout
