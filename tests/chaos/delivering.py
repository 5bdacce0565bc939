"""The load's sellers deliver (issue 22): the e-ticket of a paid order, uploaded as a seller's
client does (`POST /api/deliveries/files`, gateway/delivery_files.py), retried like the load's
other calls (tests/chaos/load.py): a transport error, a 5xx, and a refusal that means "not yet"
(NOT_FOUND: the delivery is not opened yet; CONFLICT "not paid yet": the order's completion is
on its way to the delivery service) are retried, the identical upload (the same file again is
idempotent: it changes nothing). A CONFLICT past the deadline is the seller's answer "too late":
the order is missed and refunded, as for the orders left undelivered. The load's listings are
v1 tickets, delivered as E_TICKET files (the default method)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx

from tests.chaos.load import EXPECTED_HTTP, ClientError, GaveUp

if TYPE_CHECKING:
    from tests.chaos.load import Client, Flow

UPLOAD = "/api/deliveries/files"
# A PDF as the delivery service tells one (svc_delivery/domain/files.py): by its content.
TICKET_PDF = b"%PDF-1.7\n% a chaos run's e-ticket\n" + b"0" * 200 + b"\n%%EOF\n"
DELIVERED, TOO_LATE = "delivered", "too late"


def deliver(client: Client, seller: str, flow: Flow) -> None:
    """The seller delivers `flow`'s paid order (Load's `deliver`): what they were told, kept
    on the flow."""
    assert flow.order_global_id is not None
    flow.delivery = upload_ticket(client, seller, flow.order_global_id)


def upload_ticket(client: Client, seller: str, order_global_id: str) -> str:
    """DELIVERED once the upload is accepted, TOO_LATE when the deadline passed first; GaveUp
    after the client's budget."""
    deadline = time.monotonic() + client.budget
    delay = 0.1
    while True:
        kind, expected, message = _try(client, seller, order_global_id)
        if kind in (DELIVERED, TOO_LATE):
            return kind
        client.errors.add(ClientError(time.time(), "deliverFiles", kind, expected, message[:200]))
        if not expected:
            raise GaveUp("deliverFiles", kind)
        if time.monotonic() + delay > deadline:
            raise GaveUp("deliverFiles", kind)
        time.sleep(delay)
        delay = min(1.0, delay * 2)


def _try(client: Client, seller: str, order_global_id: str) -> tuple[str, bool, str]:
    """(outcome or error kind, whether the error is expected, its message)."""
    client.http.cookies.clear()
    headers = {"authorization": f"Bearer {seller}", "x-requested-with": "chaos"}
    try:
        reply = client.http.post(
            UPLOAD,
            data={"orderId": order_global_id},
            files={"file": ("ticket.pdf", TICKET_PDF, "application/pdf")},
            headers=headers,
        )
    except httpx.TransportError as exc:
        return f"transport: {type(exc).__name__}", True, str(exc)
    if reply.status_code == 200:
        return DELIVERED, True, ""
    try:
        error = reply.json()["errors"][0]
        code, message = error.get("code", "NO CODE"), error.get("message", "")
    except (ValueError, KeyError, IndexError, TypeError):
        code, message = f"HTTP {reply.status_code}", reply.text[:200]
    if reply.status_code in EXPECTED_HTTP or code == "UNAVAILABLE":
        return f"HTTP {reply.status_code}", True, message
    if code == "NOT_FOUND":
        return "NOT_FOUND (not yet)", True, message
    if code == "CONFLICT" and "deadline" in message:
        return TOO_LATE, True, message
    if code == "CONFLICT" and "not paid" in message:
        return "CONFLICT (not paid yet)", True, message
    return code, False, message
