"""The gateway's readiness is about the gateway: a dead service fails only the calls that need it
and shows in /healthz/deps; Redis, which every signed-in request needs, is in /readyz. The probes
and /metrics answer on the admin port (GATEWAY_ADMIN_PORT) only: on the public one, which the
Ingress publishes whole, they are a 404.

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
def ports() -> dict[str, int]:
    return {"GATEWAY_PORT": free_port(), "GATEWAY_ADMIN_PORT": free_port()}


@pytest.fixture
def gateway(env, redis_proxy, ports):
    """An HTTP client of the gateway's admin port."""
    nowhere = {f"{s.name.upper()}_ADDR": f"127.0.0.1:{free_port()}" for s in GRPC_SERVICES}
    settings = {
        **env,
        **nowhere,
        "REDIS_URL": f"redis://127.0.0.1:{redis_proxy.port}/0",
        **{setting: str(port) for setting, port in ports.items()},
    }
    proc = subprocess.Popen([sys.executable, "-m", "gateway"], env=environ(settings))
    try:
        wait_for_port(ports["GATEWAY_PORT"], 30, proc)
        admin = f"http://127.0.0.1:{ports['GATEWAY_ADMIN_PORT']}"
        with httpx.Client(base_url=admin, timeout=10) as client:
            yield client
    finally:
        stop_process(proc)


def test_ready_with_every_service_down_and_the_report_names_them(gateway, ports):
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
    query = {"query": "{ tickets(first: 1) { edges { cursor } } }"}
    result = httpx.post(f"{public_url(ports)}/graphql", json=query, timeout=10)
    assert [e["extensions"]["code"] for e in result.json()["errors"]] == ["UNAVAILABLE"]


def public_url(ports: dict[str, int]) -> str:
    return f"http://127.0.0.1:{ports['GATEWAY_PORT']}"


def test_probes_and_metrics_answer_on_the_admin_port_only(gateway, ports):
    admin = {path: gateway.get(path) for path in ("/healthz", "/readyz", "/healthz/deps")}
    assert admin["/healthz"].json() == {"status": "ok"}
    assert admin["/readyz"].json()["status"] == "ready"
    assert admin["/healthz/deps"].json()["status"] == "degraded"  # no service runs
    metrics = gateway.get("/metrics")
    assert metrics.status_code == 200
    assert "ticketing_graphql_requests_in_flight" in metrics.text
    # The admin port serves nothing else: not the API, not the web app.
    assert gateway.post("/graphql", json={"query": "{ __typename }"}).status_code == 404
    assert gateway.get("/").status_code == 404

    with httpx.Client(base_url=public_url(ports), timeout=10) as public:
        for path in ("/healthz", "/readyz", "/healthz/deps", "/metrics"):
            reply = public.get(path)
            assert (reply.status_code, reply.text) == (404, "Not Found"), path
        answer = public.post("/graphql", json={"query": "{ __typename }"})
        assert answer.json() == {"data": {"__typename": "Query"}}


def test_not_ready_while_its_redis_does_not_answer(gateway, redis_proxy):
    assert gateway.get("/readyz").status_code == 200
    redis_proxy.stop()
    down = until(lambda: gateway.get("/readyz"), lambda r: r.status_code == 503)
    assert down.json() == {"status": "unavailable", "checks": {"channels": True, "redis": False}}
    assert gateway.get("/healthz/deps").json()["dependencies"]["redis"]["up"] is False
    assert gateway.get("/healthz").status_code == 200  # alive all along: no restart for this

    redis_proxy.start()
    until(lambda: gateway.get("/readyz"), lambda r: r.status_code == 200)
