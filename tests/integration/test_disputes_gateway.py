"""Disputes through the real gateway (`python -m gateway`, its own process), the real payments
service (SecantusDB, RabbitMQ) and the Stripe stand-in: an operator lists the open disputes with
their staged evidence, reads one by id, edits and submits its evidence; a member may do none of
it; the buyer's payment shows that it is disputed. And the stand-in's signed dispute webhooks
reach payments through the gateway's route."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from gateway import global_ids
from tests.integration.test_catalogue_gateway import token
from tests.integration.test_disputes import FEES, Market, api_base, payments, sdk  # noqa: F401
from tests.integration.test_payments_service import (
    WEBHOOK_SECRET,
    Payments,
    running_payments,
    webhook_app,
)
from tests.integration.test_ticket_cache_gateway import Gateway
from tests.support import servers, stripe_standin

pytestmark = pytest.mark.integration

DISPUTES = """
query ($status: DisputeStatus) {
  disputes(status: $status, first: 20) {
    nodes {
      id status reason amount { amount currencyCode } evidenceDueAt submissionCount
      purchase {
        purchasedAt amountPaid { amount currencyCode } paymentIntent charge
        buyerEmail deliveryRecord entryScan buyer { id } seller { id }
      }
      evidence { name value }
      payout { status amount { amount currencyCode } }
    }
    pageInfo { hasNextPage }
  }
}
"""
NODE = "query ($id: ID!) { node(id: $id) { id ... on Dispute { status } } }"
SUBMIT = """
mutation ($id: ID!, $text: String!) {
  submitDisputeEvidence(input: {disputeId: $id, submit: true, evidence: [
    {name: CUSTOMER_NAME, value: "Ann Buyer"}, {name: UNCATEGORIZED_TEXT, value: $text}]}) {
    dispute { status submissionCount evidence { name value } }
    userErrors { code field message }
  }
}
"""
PAYMENT = "query ($id: ID!) { node(id: $id) { ... on Payment { status disputeStatus } } }"


@contextlib.asynccontextmanager
async def gateway(env: dict[str, str], payments_port: int) -> AsyncIterator[Gateway]:
    port = servers.free_port()
    settings = {
        **env,
        "GATEWAY_PORT": str(port),
        "GATEWAY_ADMIN_PORT": str(servers.free_port()),
        "PAYMENTS_ADDR": f"127.0.0.1:{payments_port}",
    }
    proc = await asyncio.to_thread(
        subprocess.Popen, [sys.executable, "-m", "gateway"], env=servers.environ(settings)
    )
    try:
        await asyncio.to_thread(servers.wait_for_port, port, 30, proc)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield Gateway(client)
    finally:
        await asyncio.to_thread(servers.stop_process, proc)


async def test_an_operator_reviews_and_submits_a_disputes_evidence(env, payments, sdk, api_base):  # noqa: F811
    market = Market(payments, sdk, api_base)
    order_id, payment, dispute_id = await market.disputed_order()
    await market.sync(dispute_id)
    admin, member = token(env, ("admin",)), token(env)
    dispute_gid = global_ids.encode("Dispute", dispute_id)

    async with gateway(env, payments.port) as api:
        refused = await api.ask(DISPUTES, member)
        assert refused.get("data") == {"disputes": None}, refused
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
        hidden = await api.ask(NODE, member, id=dispute_gid)
        assert hidden["data"] == {"node": None}
        assert [e["extensions"]["code"] for e in hidden["errors"]] == ["NOT_FOUND"]

        listed = (await api.data(DISPUTES, admin, status="NEEDS_RESPONSE"))["disputes"]
        [found] = [d for d in listed["nodes"] if d["id"] == dispute_gid]
        assert (found["status"], found["reason"], found["submissionCount"]) == (
            "NEEDS_RESPONSE",
            "fraudulent",
            0,
        )
        assert found["amount"] == {"amount": "50.00", "currencyCode": "EUR"}
        assert found["evidenceDueAt"] is not None
        # The seller's proceeds (40.00 of 50.00), held while the dispute is open.
        assert found["payout"] == {
            "status": "HELD",
            "amount": {"amount": "40.00", "currencyCode": "EUR"},
        }
        purchase = found["purchase"]
        assert purchase["amountPaid"] == {"amount": "50.00", "currencyCode": "EUR"}
        assert purchase["paymentIntent"] == payment.stripe_id
        assert purchase["charge"].startswith("ch_")
        # Not recorded: null, never made up.
        assert (purchase["buyerEmail"], purchase["deliveryRecord"], purchase["entryScan"]) == (
            None,
            None,
            None,
        )
        assert purchase["buyer"]["id"] == global_ids.encode("User", payment.user_id)
        assert purchase["seller"]["id"] == global_ids.encode("User", market.seller)
        staged = {e["name"]: e["value"] for e in found["evidence"]}
        assert set(staged) == {"PRODUCT_DESCRIPTION", "UNCATEGORIZED_TEXT"}
        assert f"Order: {order_id}" in staged["UNCATEGORIZED_TEXT"]
        assert "Entry scan: not yet recorded" in staged["UNCATEGORIZED_TEXT"]
        by_id = await api.data(NODE, admin, id=dispute_gid)
        assert by_id["node"] == {"id": dispute_gid, "status": "NEEDS_RESPONSE"}

        # The buyer sees their payment disputed.
        payment_gid = global_ids.encode("Payment", payment.id)
        buyer = payments.issuer.issue(payment.user_id, "buyer@example.com")[0]
        seen = await api.data(PAYMENT, buyer, id=payment_gid)
        assert seen["node"] == {"status": "SUCCEEDED", "disputeStatus": "NEEDS_RESPONSE"}

        not_allowed = await api.ask(SUBMIT, member, id=dispute_gid, text="x")
        assert [e["extensions"]["code"] for e in not_allowed["errors"]] == ["FORBIDDEN"]
        submitted = (await api.data(SUBMIT, admin, id=dispute_gid, text="Seen at the door."))[
            "submitDisputeEvidence"
        ]
        assert submitted["userErrors"] == []
        assert (submitted["dispute"]["status"], submitted["dispute"]["submissionCount"]) == (
            "UNDER_REVIEW",
            1,
        )
        evidence = {e["name"]: e["value"] for e in submitted["dispute"]["evidence"]}
        assert evidence["CUSTOMER_NAME"] == "Ann Buyer"
        assert evidence["UNCATEGORIZED_TEXT"] == "Seen at the door."
        at_stripe = sdk.v1.disputes.retrieve(dispute_id)
        assert (at_stripe.status, at_stripe.evidence.customer_name) == ("under_review", "Ann Buyer")

        unknown = (
            await api.data(SUBMIT, admin, id=global_ids.encode("Dispute", "du_none"), text="x")
        )["submitDisputeEvidence"]
        assert unknown["dispute"] is None
        assert [(e["code"], e["field"]) for e in unknown["userErrors"]] == [
            ("NOT_FOUND", ["input", "disputeId"])
        ]
        market.decide(dispute_id, "lost")
        await market.sync(dispute_id)
        closed = (await api.data(SUBMIT, admin, id=dispute_gid, text="late"))[
            "submitDisputeEvidence"
        ]
        assert [e["code"] for e in closed["userErrors"]] == ["CONFLICT"]


async def test_the_dispute_webhooks_reach_payments_through_the_gateway(env):
    """The stand-in delivers `charge.dispute.*`, signed, to the gateway's webhook route, which
    has payments sync the dispute: nobody calls SyncDispute but the webhook here."""
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}/webhooks/stripe"
    with stripe_standin.running("--webhook", url, "--webhook-secret", WEBHOOK_SECRET) as standin:
        async with running_payments(env, standin, **FEES) as running:
            app, clients = webhook_app(env, running.port, WEBHOOK_SECRET)
            server = uvicorn.Server(
                uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
            )
            serving = asyncio.create_task(server.serve())
            try:
                market = Market(running, stripe_standin.client(standin), standin)
                order_id, _, dispute_id = await market.disputed_order()
                stored = await settled(running, dispute_id, "needs_response")
                assert stored["order_id"] == order_id
                market.decide(dispute_id, "won")
                await settled(running, dispute_id, "won")
                entries = await market.entries(order_id)
                assert {f"dispute:{dispute_id}", f"dispute_won:{dispute_id}"} <= entries.keys()
            finally:
                server.should_exit = True
                await serving
                await clients.close()


async def settled(running: Payments, dispute_id: str, status: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = await running.db.disputes.find_one({"_id": dispute_id})
        if doc is not None and doc["status"] == status:
            return doc
        await asyncio.sleep(0.05)
    raise AssertionError(f"dispute {dispute_id} never became {status} here")
