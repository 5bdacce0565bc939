"""The gateway's readiness is about the gateway: a dead service fails only the calls that need it
and shows in /healthz/deps; Redis, which every signed-in request needs, is in /readyz.

The gateway as its own process (`python -m gateway`), no service running at all, its Redis the
machine's behind a proxy the test cuts and restores."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlparse

import httpx
import pytest

from common.processes import GRPC_SERVICES
from tests.support.servers import TcpProxy, environ, free_port, stop_process, wait_for_port
from tests.support.waiting import until

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_proxy(redis_url):
    proxy = TcpProxy(urlparse(redis_url).port or 6379)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def gateway(env, redis_proxy):
    port = free_port()
    nowhere = {f"{s.name.upper()}_ADDR": f"127.0.0.1:{free_port()}" for s in GRPC_SERVICES}
    settings = {
        **env,
        **nowhere,
        "REDIS_URL": f"redis://127.0.0.1:{redis_proxy.port}/0",
        "GATEWAY_PORT": str(port),
    }
    proc = subprocess.Popen([sys.executable, "-m", "gateway"], env=environ(settings))
    try:
        wait_for_port(port, 30, proc)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        stop_process(proc)


def test_ready_with_every_service_down_and_the_report_names_them(gateway):
    assert gateway.get("/healthz").json() == {"status": "ok"}
    ready = gateway.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {"channels": True, "redis": True}}

    deps = gateway.get("/healthz/deps")
    assert deps.status_code == 503
    report = deps.json()
    assert report["status"] == "degraded"
    assert report["dependencies"]["redis"] == {"up": True, "state": "PONG"}
    services = {name: entry for name, entry in report["dependencies"].items() if name != "redis"}
    assert services == {s.name: {"up": False, "state": "UNAVAILABLE"} for s in GRPC_SERVICES}

    # A call that needs a dead service says so, and only that call fails.
    result = gateway.post("/graphql", json={"query": "{ tickets(first: 1) { edges { cursor } } }"})
    assert [e["extensions"]["code"] for e in result.json()["errors"]] == ["UNAVAILABLE"]


def test_not_ready_while_its_redis_does_not_answer(gateway, redis_proxy):
    assert gateway.get("/readyz").status_code == 200
    redis_proxy.stop()
    down = until(lambda: gateway.get("/readyz"), lambda r: r.status_code == 503)
    assert down.json() == {"status": "unavailable", "checks": {"channels": True, "redis": False}}
    assert gateway.get("/healthz/deps").json()["dependencies"]["redis"]["up"] is False
    assert gateway.get("/healthz").status_code == 200  # alive all along: no restart for this

    redis_proxy.start()
    until(lambda: gateway.get("/readyz"), lambda r: r.status_code == 200)
