"""/metrics of a gateway with two workers (GATEWAY_WORKERS=2): whichever worker answers the scrape,
it counts the requests both of them served (prometheus-client's multiprocess mode)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from common.processes import GRPC_SERVICES
from tests.integration.test_gateway_workers import until, workers_of
from tests.support.servers import environ, free_port, stop_process, wait_for_port

pytestmark = pytest.mark.integration


@pytest.fixture
def gateway(env, tmp_path) -> Iterator[tuple[str, str, Path, set[int]]]:
    """Two workers; the services are nowhere (these requests need none). Yields the public and
    the admin URL (/metrics), the metrics directory and the workers' pids."""
    port, admin_port = free_port(), free_port()
    metrics_dir = tmp_path / "metrics"
    (metrics_dir).mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left by an earlier run")
    settings = {
        **env,
        **{f"{s.name.upper()}_ADDR": f"127.0.0.1:{free_port()}" for s in GRPC_SERVICES},
        "GATEWAY_PORT": str(port),
        "GATEWAY_ADMIN_PORT": str(admin_port),
        "GATEWAY_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    proc = subprocess.Popen([sys.executable, "-m", "gateway"], env=environ(settings))
    try:
        wait_for_port(port, 60, proc)
        workers = until(lambda: workers_of(proc.pid), lambda pids: len(pids) == 2)
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}", metrics_dir, workers
    finally:
        stop_process(proc)


def counted(admin_url: str, operation: str) -> float:
    """One scrape, on a connection of its own (so any worker may answer it)."""
    text = httpx.get(f"{admin_url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if (
                s.name == "ticketing_graphql_requests_total"
                and s.labels.get("operation") == operation
            ):
                return s.value
    return 0.0


def recorded_by(metrics_dir: Path, operation: str) -> set[int]:
    """The processes whose counter file holds the operation's series."""
    return {
        int(f.stem.rsplit("_", 1)[1])
        for f in metrics_dir.glob("counter_*.db")
        if operation.encode() in f.read_bytes()
    }


def test_a_scrape_counts_the_requests_of_every_worker(gateway):
    base_url, admin_url, metrics_dir, workers = gateway
    assert not (metrics_dir / "counter_1.db").exists()  # an earlier run's values are dropped
    operation = f"Probe{uuid.uuid4().hex[:8]}"
    query = {"query": f"query {operation} {{ __typename }}"}

    def ask(_: int) -> int:
        return httpx.post(f"{base_url}/graphql", json=query, timeout=10).status_code

    sent = 0
    with ThreadPoolExecutor(8) as pool:
        # Separate connections, until each worker has served some (the kernel picks the worker).
        while recorded_by(metrics_dir, operation) != workers and sent < 2000:
            assert set(pool.map(ask, range(40))) == {200}
            sent += 40
    assert recorded_by(metrics_dir, operation) == workers
    # Each scrape, whichever worker answers it, counts them all.
    assert [counted(admin_url, operation) for _ in range(10)] == [sent] * 10
    text = httpx.get(f"{admin_url}/metrics", timeout=10).text
    assert "ticketing_graphql_requests_in_flight 0.0" in text
