"""Unpaid orders expire: with a 3-second hold, the services as separate processes (so one can
be killed), real SecantusDB, RabbitMQ, Redis and the Stripe stand-in."""

from __future__ import annotations

import time

import httpx
import pymongo
import pytest

from tests.support.ids import raw_id
from tests.support.market import Api
from tests.support.processes import ServiceSet

pytestmark = pytest.mark.e2e

HOLD_SECONDS = 3


@pytest.fixture
def services(env, stripe_api_base, tmp_path):
    running = ServiceSet(
        {
            **env,
            "ORDER_EXPIRATION_SECONDS": str(HOLD_SECONDS),
            # These prove the expiration service's path; the orders service's own sweep for
            # what that path lost (tests/integration/test_order_expiry_sweep.py) stays out.
            "ORDER_EXPIRY_GRACE_SECONDS": "60",
            "STRIPE_API_BASE": stripe_api_base,
            "STRIPE_SECRET_KEY": "sk_test_local",
            "STRIPE_WEBHOOK_SECRET": "whsec_test",
        },
        tmp_path,
    )
    try:
        running.start_all()
        yield running
    finally:
        running.stop_all()


@pytest.fixture
def api(services):
    with httpx.Client(base_url=services.base_url, timeout=20) as client:
        yield Api(client)


def test_an_unpaid_order_expires_and_the_ticket_is_for_sale_again(api, env):
    buyer, late_buyer = api.user(), api.user()
    ticket = api.sell(api.user())
    order = api.order(buyer, ticket["id"])
    assert api.get_ticket(ticket["id"])["state"] == "HELD"

    expired = api.until(
        lambda: api.get_order(buyer, order["id"]),
        lambda o: o["status"] == "CANCELLED",
        timeout=HOLD_SECONDS + 10,
    )
    assert (expired["version"], expired["cancelReason"]) == (1, "EXPIRED")
    # Tickets, the one authority on seats, frees the seat once the order's OrderCancelled has
    # reached it: a moment after orders says CANCELLED, never at once.
    api.until(lambda: api.get_ticket(ticket["id"]), lambda t: t["state"] == "FOR_SALE")
    # Payments' copy tells the same story.
    with pymongo.MongoClient(env["MONGO_URL"]) as mongo:
        copies = mongo[f"{env['TICKETING_NAMESPACE']}_payments"].orders
        api.until(
            lambda: copies.find_one({"_id": raw_id(order["id"], "Order")}) or {},
            lambda c: c.get("status") == "CANCELLED",
        )
    # Paying it now is refused and charges nothing; someone else may buy the ticket.
    refused = api.payment(buyer, order["id"])
    assert [e["code"] for e in refused["userErrors"]] == ["CONFLICT"] and not refused["payment"]
    assert api.order(late_buyer, ticket["id"])["status"] == "CREATED"


def test_expiry_still_fires_when_the_expiration_service_was_down_at_the_due_time(api, services):
    buyer = api.user()
    ticket = api.sell(api.user())
    order = api.order(buyer, ticket["id"])
    services.kill("expiration")  # SIGKILL while the order is held
    time.sleep(HOLD_SECONDS + 1)  # the due time passes with no expiration service at all
    assert api.get_order(buyer, order["id"])["status"] == "CREATED"
    services.start("expiration")
    api.until(
        lambda: api.get_order(buyer, order["id"]), lambda o: o["status"] == "CANCELLED", timeout=10
    )
    # Freed by tickets once the OrderCancelled reaches it, a moment after CANCELLED.
    api.until(lambda: api.get_ticket(ticket["id"]), lambda t: t["state"] == "FOR_SALE")


def test_a_paid_order_does_not_expire(api):
    buyer = api.user()
    ticket = api.sell(api.user())
    order = api.order(buyer, ticket["id"])
    api.pay(buyer, order["id"])
    api.until(lambda: api.get_order(buyer, order["id"]), lambda o: o["status"] == "COMPLETE")
    # The sentinel: an order held after it and left unpaid, whose expiry is due later; once it
    # has expired, the paid order's due time has passed and its expiry has fired too.
    other = api.order(buyer, api.sell(api.user())["id"])
    api.until(
        lambda: api.get_order(buyer, other["id"]),
        lambda o: o["status"] == "CANCELLED",
        timeout=HOLD_SECONDS + 15,
    )
    assert api.get_order(buyer, order["id"])["status"] == "COMPLETE"
    assert api.get_ticket(ticket["id"])["state"] == "SOLD"
