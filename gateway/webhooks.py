"""POST /webhooks/stripe: Stripe's word that a PaymentIntent moved on, or that a dispute did.

The body is trusted for nothing but which PaymentIntent (or dispute) to look at, and only once
its `Stripe-Signature` checks out against STRIPE_WEBHOOK_SECRET and was made within Stripe's
tolerance (300 s) of now, before or after; the payments service then reads the intent from Stripe
itself (SettlePayment), or the dispute (SyncDispute, for `charge.dispute.*`). The status code
tells Stripe whether to deliver the event again: 2xx for done or not ours, 503 while payments or
Stripe cannot settle it yet, 400 for a body that is not a Stripe event (not JSON, not an object,
no well-formed PaymentIntent or dispute id).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from typing import Any

import stripe
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.errors import AppError, ErrorCode
from gateway.clients import ServiceClients
from gateway.errors import INTERNAL_MESSAGE
from gateway.rest import error_response
from ticketing.payments.v1 import payments_pb2

log = logging.getLogger(__name__)

PATH = "/webhooks/stripe"
# Everything that can change how a payment of ours stands.
SETTLING = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.processing",
    }
)
# Everything that can change how a dispute of a payment of ours stands.
DISPUTING = frozenset(
    {
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    }
)
# A dispute id as Stripe makes them (du_, or dp_ for some payment methods).
DISPUTE_ID = re.compile(r"(du|dp)_[A-Za-z0-9_]{1,252}")
# Answers that another delivery would not change: acknowledge, so Stripe stops retrying.
_SETTLED_ENOUGH = frozenset({ErrorCode.NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.BAD_USER_INPUT})
# How far a signature's timestamp may be from now, either way: Stripe's default. The SDK checks
# only the past (a replayed old delivery); a timestamp in the future is refused here too.
TOLERANCE_SECONDS = stripe.Webhook.DEFAULT_TOLERANCE
# A PaymentIntent id as Stripe makes them (object ids are at most 255 characters).
INTENT_ID = re.compile(r"pi_[A-Za-z0-9_]{1,252}")


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _signed_event(payload: bytes, header: str | None, secret: str) -> dict[str, Any]:
    """The event, once its signature checks out and was made within the tolerance."""
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError:
        raise _Refused("Invalid Stripe signature") from None
    except ValueError:  # not UTF-8
        raise _Refused("Invalid payload") from None
    assert header is not None  # verify_header refuses a missing one
    if _signed_at(header) > time.time() + TOLERANCE_SECONDS:
        raise _Refused("Invalid Stripe signature")
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):  # signed, but not JSON (or nested beyond reason)
        raise _Refused("Invalid payload") from None
    if not isinstance(event, dict):
        raise _Refused("Invalid payload: not a Stripe event")
    return event


def _signed_at(header: str) -> int:
    """The `t=` of a header verify_header accepted, read as it reads it."""
    for item in header.split(","):
        name, _, rest = item.partition("=")
        if name == "t":
            return int(rest.split("=", 1)[0])
    raise AssertionError("verify_header accepted a header without a timestamp")


def _intent_id(event: dict[str, Any]) -> str | None:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    intent_id = obj.get("id") if isinstance(obj, dict) else None
    return intent_id if isinstance(intent_id, str) else None


def loggable(value: str) -> str:
    """Something untrusted, short enough and recognisable in a log line."""
    if len(value) <= 64 and value.isprintable():
        return value
    digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]
    return f"{value[:16]!r}…({len(value)} chars, sha256 {digest})"


def stripe_webhook_route(clients: ServiceClients, secret: str | None) -> Route:
    async def stripe_webhook(request: Request) -> Response:
        if not secret:
            return error_response("Stripe webhooks are not configured", 503, ErrorCode.UNAVAILABLE)
        payload = await request.body()
        try:
            event = _signed_event(payload, request.headers.get("stripe-signature"), secret)
        except _Refused as refused:
            return error_response(refused.message, 400, ErrorCode.BAD_USER_INPUT)
        kind = event.get("type")
        if isinstance(kind, str) and kind in DISPUTING:
            return await _sync_dispute(clients, kind, event)
        if not isinstance(kind, str) or kind not in SETTLING:
            return JSONResponse({"received": True, "ignored": True})
        intent_id = _intent_id(event)
        if intent_id is None:
            return error_response(
                "Invalid payload: no PaymentIntent id", 400, ErrorCode.BAD_USER_INPUT
            )
        if not INTENT_ID.fullmatch(intent_id):
            log.warning(
                "stripe webhook: malformed PaymentIntent id",
                extra={"stripe_id": loggable(intent_id)},
            )
            return error_response(
                "Invalid payload: malformed PaymentIntent id", 400, ErrorCode.BAD_USER_INPUT
            )
        try:
            await clients.call(
                clients.payments.SettlePayment,
                payments_pb2.SettlePaymentRequest(stripe_id=intent_id),
            )
        except AppError as exc:
            extra = {"type": kind, "stripe_id": intent_id, "code": exc.code.value}
            if exc.code in _SETTLED_ENOUGH:
                log.info("stripe webhook: nothing to settle", extra={**extra, "error": exc.message})
                return JSONResponse({"received": True})
            if exc.code is ErrorCode.UNAVAILABLE:
                log.warning("stripe webhook: cannot settle yet, Stripe will retry", extra=extra)
                return error_response(
                    "Payments are unavailable, try again", 503, ErrorCode.UNAVAILABLE
                )
            log.error("stripe webhook: settling failed", extra={**extra, "error": exc.message})
            return error_response(INTERNAL_MESSAGE, 500, ErrorCode.INTERNAL)
        return JSONResponse({"received": True})

    return Route(PATH, stripe_webhook, methods=["POST"])


async def _sync_dispute(clients: ServiceClients, kind: str, event: dict[str, Any]) -> Response:
    """`charge.dispute.*`: payments reads the dispute from Stripe (SyncDispute), as it reads a
    PaymentIntent; the same answers to Stripe as for a PaymentIntent's events."""
    dispute_id = _intent_id(event)  # the event's object's id: here, the dispute's
    if dispute_id is None:
        return error_response("Invalid payload: no dispute id", 400, ErrorCode.BAD_USER_INPUT)
    if not DISPUTE_ID.fullmatch(dispute_id):
        log.warning(
            "stripe webhook: malformed dispute id", extra={"dispute_id": loggable(dispute_id)}
        )
        return error_response(
            "Invalid payload: malformed dispute id", 400, ErrorCode.BAD_USER_INPUT
        )
    try:
        await clients.call(
            clients.payments.SyncDispute, payments_pb2.SyncDisputeRequest(dispute_id=dispute_id)
        )
    except AppError as exc:
        extra = {"type": kind, "dispute_id": dispute_id, "code": exc.code.value}
        if exc.code in _SETTLED_ENOUGH:
            log.info("stripe webhook: no dispute of ours", extra={**extra, "error": exc.message})
            return JSONResponse({"received": True})
        if exc.code is ErrorCode.UNAVAILABLE:
            log.warning(
                "stripe webhook: cannot sync the dispute yet, Stripe will retry", extra=extra
            )
            return error_response("Payments are unavailable, try again", 503, ErrorCode.UNAVAILABLE)
        log.error("stripe webhook: syncing a dispute failed", extra={**extra, "error": exc.message})
        return error_response(INTERNAL_MESSAGE, 500, ErrorCode.INTERNAL)
    return JSONResponse({"received": True})
