"""The gateway's two ports in one app (gateway/admin.py): a connection to GATEWAY_ADMIN_PORT
reaches the probes and /metrics and nothing else; any other port reaches the API and the web app,
where those paths are a 404. The app is the real one (`create_app`); no service or Redis answers,
so /readyz says unavailable, which is still the probe answering."""

from __future__ import annotations

import httpx
import pytest

from common.settings import ConfigError
from gateway.config import GatewaySettings
from tests.unit.test_gateway_limits import app

ADMIN_PATHS = ("/healthz", "/readyz", "/healthz/deps", "/metrics")


def on_port(port: int, **settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app(**settings), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=f"http://gateway:{port}")


async def test_the_admin_port_answers_the_probes_and_metrics_and_nothing_else() -> None:
    async with on_port(9100) as admin:
        assert (await admin.get("/healthz")).json() == {"status": "ok"}
        ready = await admin.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["redis"] is False
        assert (await admin.get("/healthz/deps")).json()["status"] == "degraded"
        metrics = await admin.get("/metrics")
        assert metrics.status_code == 200 and "# TYPE ticketing_" in metrics.text
        assert (await admin.post("/graphql", json={"query": "{ __typename }"})).status_code == 404
        assert (await admin.get("/")).status_code == 404


async def test_the_public_port_does_not_answer_them() -> None:
    async with on_port(8000) as public:
        for path in ADMIN_PATHS:
            reply = await public.get(path)
            assert (reply.status_code, reply.text) == (404, "Not Found"), path
        answer = await public.post("/graphql", json={"query": "{ __typename }"})
        assert answer.json() == {"data": {"__typename": "Query"}}


async def test_the_admin_port_follows_its_setting() -> None:
    async with on_port(9200, gateway_admin_port=9200) as admin:
        assert (await admin.get("/healthz")).status_code == 200
    async with on_port(9100, gateway_admin_port=9200) as other:
        assert (await other.get("/healthz")).status_code == 404


@pytest.mark.parametrize("admin", ["8000", "0", "70000"])
def test_the_admin_port_must_be_a_port_of_its_own(admin: str) -> None:
    with pytest.raises(ConfigError, match="GATEWAY_ADMIN_PORT must be a port other than"):
        GatewaySettings.from_env({"GATEWAY_ADMIN_PORT": admin, "GATEWAY_PORT": "8000"})
