"""A purchase through the real stack, as Prometheus sees it: GET /metrics on the gateway and on
each service's metrics port, before and after, shows the series the purchase moved."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from common.processes import SERVICES
from tests.support.market import Api

pytestmark = pytest.mark.e2e

ORDERS = "ticketing.orders.v1.OrdersService"
AUTH = "ticketing.auth.v1.AuthService"


class Scrape:
    """Every process's /metrics at one moment."""

    def __init__(self, stack) -> None:
        self.samples: dict[str, list] = {}
        for spec in SERVICES:
            reply = httpx.get(stack.metrics_url(spec.name), timeout=10)
            assert reply.status_code == 200, (spec.name, reply.text)
            assert reply.headers["content-type"].startswith("text/plain")
            self.samples[spec.name] = [
                s for f in text_string_to_metric_families(reply.text) for s in f.samples
            ]

    def value(self, process: str, name: str, **labels: str) -> float:
        """The sum of `name`'s samples whose labels include `labels`."""
        return sum(
            s.value
            for s in self.samples[process]
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def has(self, process: str, name: str, **labels: str) -> bool:
        return any(
            s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
            for s in self.samples[process]
        )


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def test_a_purchase_shows_in_every_process_metrics(api, stack):
    before = Scrape(stack)
    seller, buyer = api.user(), api.user()
    ticket = api.sell(seller, "Metrics row", "25")
    order = api.order(buyer, ticket["id"])
    assert api.get_ticket(ticket["id"])["state"] == "HELD"
    api.pay(buyer, order["id"])
    api.until(lambda: api.get_order(buyer, order["id"]), lambda o: o["status"] == "COMPLETE")

    def grew(process: str, name: str, by: float = 1, **labels: str) -> Callable[[Scrape], bool]:
        return lambda now: (
            now.value(process, name, **labels) - before.value(process, name, **labels) >= by
        )

    expected = {
        # The gateway: GraphQL operations by name (anonymous ones by their root field), type
        # and outcome; its ticket cache; the ticket events it consumes for that cache.
        "createOrder ok": grew(
            "gateway",
            "ticketing_graphql_requests_total",
            operation="createOrder",
            type="mutation",
            status="ok",
        ),
        "createPayment timed": grew(
            "gateway",
            "ticketing_graphql_request_duration_seconds_count",
            operation="createPayment",
            type="mutation",
        ),
        "signUp twice": grew(
            "gateway", "ticketing_graphql_requests_total", 2, operation="signUp", status="ok"
        ),
        "ticket cache reads": grew("gateway", "ticketing_ticket_cache_reads_total"),
        "gateway consumed TicketCreated": grew(
            "gateway", "ticketing_events_consumed_total", service="gateway", type="TicketCreated"
        ),
        # RPCs, server side, every service.
        "CreateOrder OK": grew(
            "orders",
            "grpc_server_handled_total",
            grpc_service=ORDERS,
            grpc_method="CreateOrder",
            grpc_code="OK",
        ),
        "CreateOrder timed": grew(
            "orders",
            "grpc_server_handling_seconds_count",
            grpc_service=ORDERS,
            grpc_method="CreateOrder",
        ),
        "SignUp OK": grew(
            "auth",
            "grpc_server_handled_total",
            2,
            grpc_service=AUTH,
            grpc_method="SignUp",
            grpc_code="OK",
        ),
        # Events: published by their service, consumed by every subscriber.
        "TicketCreated published": grew(
            "tickets", "ticketing_events_published_total", service="tickets", type="TicketCreated"
        ),
        "OrderCreated published": grew(
            "orders", "ticketing_events_published_total", service="orders", type="OrderCreated"
        ),
        "OrderUpdated consumed in tickets (the seat sold)": grew(
            "tickets", "ticketing_events_consumed_total", service="tickets", type="OrderUpdated"
        ),
        "OrderCreated consumed in payments": grew(
            "payments", "ticketing_events_consumed_total", service="payments", type="OrderCreated"
        ),
        "OrderCreated consumed in expiration": grew(
            "expiration",
            "ticketing_events_consumed_total",
            service="expiration",
            type="OrderCreated",
        ),
        "ChargeCreated published": grew(
            "payments",
            "ticketing_events_published_total",
            service="payments",
            type="ChargeCreated",
        ),
        "ChargeCreated consumed in orders": grew(
            "orders", "ticketing_events_consumed_total", service="orders", type="ChargeCreated"
        ),
        "tickets handled OrderUpdated, timed": grew(
            "tickets", "ticketing_event_handling_seconds_count", service="tickets"
        ),
        # Stripe, and the funnel.
        "Stripe charge succeeded": grew(
            "payments", "ticketing_stripe_requests_total", operation="charge", outcome="succeeded"
        ),
        "Stripe charge timed": grew(
            "payments", "ticketing_stripe_request_duration_seconds_count", operation="charge"
        ),
        "order created": grew("orders", "ticketing_order_status_changes_total", status="CREATED"),
        "order completed": grew(
            "orders", "ticketing_order_status_changes_total", status="COMPLETE"
        ),
    }
    # Consumers ack in their own time: the last of them (expiration's) may lag the purchase.
    after = api.until(
        lambda: Scrape(stack),
        lambda now: all(check(now) for check in expected.values()),
    )
    assert [what for what, check in expected.items() if not check(after)] == []

    # The outbox backlog of every service that keeps one, read from MongoDB at the scrape.
    for service in ("auth", "tickets", "orders", "payments"):
        assert after.has(service, "ticketing_outbox_unsent_events", service=service), service
        assert after.has(service, "ticketing_outbox_oldest_unsent_age_seconds", service=service)
    assert not after.has("expiration", "ticketing_outbox_unsent_events")  # it has no outbox
    # Nothing went wrong on the way.
    for process in after.samples:
        assert after.value(process, "ticketing_events_dead_lettered_total") == before.value(
            process, "ticketing_events_dead_lettered_total"
        ), process
