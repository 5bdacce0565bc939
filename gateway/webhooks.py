"""POST /webhooks/stripe: Stripe's word that a PaymentIntent moved on.

The body is trusted for nothing but which PaymentIntent to look at, and only once its
`Stripe-Signature` checks out against STRIPE_WEBHOOK_SECRET; the payments service then reads the
intent from Stripe itself (SettlePayment). The status code tells Stripe whether to deliver the
event again: 2xx for done or not ours, 503 while payments or Stripe cannot settle it yet.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.errors import AppError, ErrorCode
from gateway.clients import ServiceClients
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
# Answers that another delivery would not change: acknowledge, so Stripe stops retrying.
_SETTLED_ENOUGH = frozenset({ErrorCode.NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.BAD_USER_INPUT})


def _intent_id(event: Any) -> tuple[str, str | None]:
    body = event.to_dict() if hasattr(event, "to_dict") else {}
    kind = body.get("type") or ""
    data = body.get("data") or {}
    obj = data.get("object") if isinstance(data, dict) else None
    intent_id = obj.get("id") if isinstance(obj, dict) else None
    return kind, intent_id if isinstance(intent_id, str) and intent_id else None


def stripe_webhook_route(clients: ServiceClients, secret: str | None) -> Route:
    async def stripe_webhook(request: Request) -> Response:
        if not secret:
            return error_response("Stripe webhooks are not configured", 503)
        payload = await request.body()
        try:
            event = stripe.Webhook.construct_event(
                payload, request.headers.get("stripe-signature"), secret
            )
        except stripe.SignatureVerificationError:
            return error_response("Invalid Stripe signature", 400)
        except ValueError:  # signed, but not JSON
            return error_response("Invalid payload", 400)
        kind, intent_id = _intent_id(event)
        if kind not in SETTLING:
            return JSONResponse({"received": True, "ignored": True})
        if intent_id is None:
            return error_response("Invalid payload: no PaymentIntent id", 400)
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
                return error_response("Payments are unavailable, try again", 503)
            log.error("stripe webhook: settling failed", extra={**extra, "error": exc.message})
            return error_response("Internal server error", 500)
        return JSONResponse({"received": True})

    return Route(PATH, stripe_webhook, methods=["POST"])
