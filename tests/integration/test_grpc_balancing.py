"""gRPC balanced per call, as in a cluster with a headless Service: replicas of tickets (real
processes) on 127.0.0.2, 127.0.0.3... behind ONE name, which a DNS server of the test's own
resolves to every replica's address; the real gateway (its ticket cache off, so every read asks
tickets) reaches them as `dns://<that server>/tickets.test:<port>`. What an operator would see,
read from each replica's own /metrics (grpc_server_handled_total):

- 1,000 reads through the gateway are shared fairly between two replicas (round_robin; gRPC's
  default, pick_first, sends them all to one);
- a replica started later, once the name resolves to it too, gets calls within the servers'
  connection age (GRPC_MAX_CONNECTION_AGE_SECONDS): each closed connection makes the gateway
  resolve the name again (without an age it never would, and the new replica would stay idle).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import servers
from tests.support.name_server import NameServer
from tests.support.tokens import issuer_for

pytestmark = pytest.mark.integration

NAME = "tickets.test"
SERVICE = "ticketing.tickets.v1.TicketsService"
# Short, so the test sees several connection lifetimes; production's default is 30 s.
CONNECTION_AGE_SECONDS = 2.0
# A connection closes within its age +10 % (gRPC's jitter); the gateway then resolves the name
# again (at most once a second) and connects to what it finds.
NEW_REPLICA_WITHIN_SECONDS = CONNECTION_AGE_SECONDS * 1.1 + 1.0 + 3.0
READS = 1_000

TICKET = "query($id: ID!) { ticket(id: $id) { id title } }"
CREATE = (
    "mutation($t: String!, $k: String!) { createTicket(input: {title: $t, idempotencyKey: $k, "
    'price: {amount: "20", currencyCode: USD}}) { ticket { id } userErrors { code field } } }'
)


class Replica:
    """One tickets process listening on its own loopback address."""

    def __init__(self, host: str, env: dict[str, str], log_dir: Path) -> None:
        self.host = host
        self.port = int(env["TICKETS_PORT"])
        self.metrics_port = servers.free_port()
        log = (log_dir / f"tickets-{host}.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "svc_tickets"],
            env=servers.environ(
                {**env, "BIND_HOST": host, "TICKETS_METRICS_PORT": str(self.metrics_port)}
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _wait_listening(host, self.port, self.proc)

    def calls(self) -> float:
        """The tickets RPCs this replica has answered, by its own /metrics."""
        text = httpx.get(f"http://{self.host}:{self.metrics_port}/metrics", timeout=5).text
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "grpc_server_handled_total"
            and sample.labels.get("grpc_service") == SERVICE
        )

    def stop(self) -> None:
        servers.stop_process(self.proc)


def _wait_listening(host: str, port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tickets on {host} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"tickets on {host}:{port} not listening after {timeout}s")


@contextlib.contextmanager
def gateway(env: dict[str, str], log_dir: Path) -> Iterator[httpx.Client]:
    port = servers.free_port()
    log = (log_dir / "gateway.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway"],
        env=servers.environ(
            {
                **env,
                "GATEWAY_PORT": str(port),
                "GATEWAY_ADMIN_PORT": str(servers.free_port()),
                "GATEWAY_WORKERS": "1",
                "TICKET_CACHE_ENABLED": "false",
            }
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        servers.wait_for_port(port, 30, proc)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        servers.stop_process(proc)


def read(client: httpx.Client, ticket_id: str) -> None:
    reply = client.post("/graphql", json={"query": TICKET, "variables": {"id": ticket_id}})
    assert reply.status_code == 200 and reply.json()["data"]["ticket"]["id"] == ticket_id, (
        reply.text
    )


@pytest.fixture
def name_server() -> Iterator[NameServer]:
    server = NameServer().start()
    yield server
    server.stop()


def test_replicas_behind_one_name_share_the_calls_and_a_new_one_gets_its_share(
    env, name_server: NameServer, tmp_path: Path
) -> None:
    port = servers.free_port()
    service_env = {
        **env,
        "TICKETS_PORT": str(port),
        "GRPC_MAX_CONNECTION_AGE_SECONDS": str(CONNECTION_AGE_SECONDS),
    }
    replicas: list[Replica] = []
    try:
        replicas += [Replica(h, service_env, tmp_path) for h in ("127.0.0.2", "127.0.0.3")]
        name_server.set(NAME, [r.host for r in replicas])
        gateway_env = {**env, "TICKETS_ADDR": name_server.target(NAME, port)}
        with gateway(gateway_env, tmp_path) as client:
            user = str(uuid.uuid4())
            token = issuer_for(env).issue(user, "s@example.com")[0]
            created = client.post(
                "/graphql",
                json={"query": CREATE, "variables": {"t": "Balanced", "k": str(uuid.uuid4())}},
                headers={"authorization": f"Bearer {token}"},
            ).json()
            assert created["data"]["createTicket"]["userErrors"] == [], created
            ticket_id = created["data"]["createTicket"]["ticket"]["id"]

            before = [r.calls() for r in replicas]
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda _: read(client, ticket_id), range(READS)))
            served = [r.calls() - b for r, b in zip(replicas, before, strict=True)]
            total = sum(served)
            assert total >= READS, served  # every read asked tickets (the cache is off)
            shares = [round(s / total, 3) for s in served]
            assert all(0.35 <= share <= 0.65 for share in shares), (
                f"{READS} reads through the gateway: replicas answered {served} ({shares})"
            )

            late = Replica("127.0.0.4", service_env, tmp_path)
            replicas.append(late)
            name_server.set(NAME, [r.host for r in replicas])
            added, waited = time.monotonic(), 0.0
            while late.calls() == 0:
                waited = time.monotonic() - added
                assert waited < NEW_REPLICA_WITHIN_SECONDS, (
                    f"the replica added {waited:.1f}s ago has had no call; the others "
                    f"{[r.calls() for r in replicas[:-1]]}"
                )
                for _ in range(10):
                    read(client, ticket_id)
            print(f"shares {shares}; the late replica's first call {waited:.1f}s after it joined")
    finally:
        for replica in replicas:
            replica.stop()
