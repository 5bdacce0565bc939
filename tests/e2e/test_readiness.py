"""A service down takes out the calls that need it, not the gateway: the services as separate
processes, two of them killed (SIGKILL) and one started again."""

from __future__ import annotations

import httpx
import pytest

from tests.support.market import Api
from tests.support.processes import ServiceSet

pytestmark = pytest.mark.e2e

LIST_TICKETS = "{ tickets(first: 1) { edges { cursor } } }"


@pytest.fixture
def services(env, stripe_api_base, tmp_path):
    running = ServiceSet(
        {**env, "STRIPE_API_BASE": stripe_api_base, "STRIPE_SECRET_KEY": "sk_test_local"},
        tmp_path,
    )
    try:
        running.start_all()
        yield running
    finally:
        running.stop_all()


def test_a_dead_service_fails_only_its_calls_and_the_gateway_stays_ready(services):
    with (
        httpx.Client(base_url=services.base_url, timeout=20) as client,
        httpx.Client(base_url=services.admin_url, timeout=20) as admin,
    ):
        api = Api(client)
        seller = api.user()
        services.kill("expiration")  # the gateway never calls it
        services.kill("tickets")

        def dependencies() -> dict:
            reply = admin.get("/healthz/deps")
            assert reply.status_code in (200, 503), reply.text
            return {name: entry["up"] for name, entry in reply.json()["dependencies"].items()}

        down = api.until(dependencies, lambda deps: not deps["tickets"] and not deps["expiration"])
        assert down == {
            **dict.fromkeys(
                (
                    "auth",
                    "orders",
                    "payments",
                    "insights",
                    "catalogue",
                    "delivery",
                    "notifications",
                    "redis",
                ),
                True,
            ),
            **dict.fromkeys(("tickets", "expiration"), False),
        }
        assert admin.get("/healthz/deps").status_code == 503
        ready = admin.get("/readyz")
        assert ready.status_code == 200, ready.text

        assert api.codes(LIST_TICKETS) == [("UNAVAILABLE", None)]
        assert api.codes(LIST_TICKETS, seller) == [("UNAVAILABLE", None)]
        # What needs no dead service goes on: auth and orders answer.
        buyer = api.user()
        assert api.data("{ orders(first: 5) { edges { cursor } } }", buyer)["orders"] == {
            "edges": []
        }

        services.start("tickets")
        api.until(dependencies, lambda deps: deps["tickets"])
        assert api.sell(seller)["version"] == 0
