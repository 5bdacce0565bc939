"""POST /webhooks/stripe: Stripe's word that a PaymentIntent moved on, that a seller's
connected account changed, or that a dispute of a payment did.

The body is trusted for nothing but which object to look at, and only once its
`Stripe-Signature` checks out against one of STRIPE_WEBHOOK_SECRET's secrets (the platform
endpoint's, the Connect endpoint's) and was made within Stripe's tolerance (300 s) of now, before
or after; the payments service then reads the object from Stripe itself: the PaymentIntent of a
`payment_intent.*` event (SettlePayment), the account of an `account.updated` one
(SyncSellerAccount), the dispute of a `charge.dispute.*` one (SyncDispute). The status code tells
Stripe whether to deliver the event again: 2xx for done or not ours, 503 while payments or Stripe
cannot act on it yet, 400 for a body that is not a Stripe event (not JSON, not an object, no
well-formed id of its object).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
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
# A seller's connected account changed: payouts enabled, requirements due, disabled.
ACCOUNT_UPDATES = frozenset({"account.updated"})
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
# Answers that another delivery would not change: acknowledge, so Stripe stops retrying.
_SETTLED_ENOUGH = frozenset({ErrorCode.NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.BAD_USER_INPUT})
# How far a signature's timestamp may be from now, either way: Stripe's default. The SDK checks
# only the past (a replayed old delivery); a timestamp in the future is refused here too.
TOLERANCE_SECONDS = stripe.Webhook.DEFAULT_TOLERANCE
# Object ids as Stripe makes them (at most 255 characters).
INTENT_ID = re.compile(r"pi_[A-Za-z0-9_]{1,252}")
ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9_]{1,250}")
# A dispute id as Stripe makes them (du_, or dp_ for some payment methods).
DISPUTE_ID = re.compile(r"(du|dp)_[A-Za-z0-9_]{1,252}")


@dataclass(frozen=True)
class Forwarding:
    """What an event is forwarded to: the id its object must have, and the call to payments."""

    names: str  # what the object is, in messages: "PaymentIntent"
    object_id: re.Pattern[str]
    log_field: str
    call: Callable[[ServiceClients, str], Any]


def _settle(clients: ServiceClients, intent_id: str) -> Any:
    return clients.call(
        clients.payments.SettlePayment, payments_pb2.SettlePaymentRequest(stripe_id=intent_id)
    )


def _sync(clients: ServiceClients, account_id: str) -> Any:
    return clients.call(
        clients.payments.SyncSellerAccount,
        payments_pb2.SyncSellerAccountRequest(stripe_account_id=account_id),
    )


def _sync_dispute(clients: ServiceClients, dispute_id: str) -> Any:
    return clients.call(
        clients.payments.SyncDispute, payments_pb2.SyncDisputeRequest(dispute_id=dispute_id)
    )


SETTLE = Forwarding("PaymentIntent", INTENT_ID, "stripe_id", _settle)
SYNC = Forwarding("account", ACCOUNT_ID, "stripe_account_id", _sync)
SYNC_DISPUTE = Forwarding("dispute", DISPUTE_ID, "dispute_id", _sync_dispute)
FORWARDED: dict[str, Forwarding] = {
    **dict.fromkeys(SETTLING, SETTLE),
    **dict.fromkeys(ACCOUNT_UPDATES, SYNC),
    **dict.fromkeys(DISPUTING, SYNC_DISPUTE),
}


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _verify(payload: bytes, header: str | None, secrets: tuple[str, ...]) -> None:
    """The signature is one of `secrets`' (one per Stripe endpoint delivering here)."""
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE_SECONDS)
            return
        except stripe.SignatureVerificationError:
            continue
    raise _Refused("Invalid Stripe signature")


def _signed_event(payload: bytes, header: str | None, secrets: tuple[str, ...]) -> dict[str, Any]:
    """The event, once its signature checks out and was made within the tolerance."""
    try:
        _verify(payload, header, secrets)
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


def _object_id(event: dict[str, Any]) -> str | None:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    object_id = obj.get("id") if isinstance(obj, dict) else None
    return object_id if isinstance(object_id, str) else None


def loggable(value: str) -> str:
    """Something untrusted, short enough and recognisable in a log line."""
    if len(value) <= 64 and value.isprintable():
        return value
    digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]
    return f"{value[:16]!r}…({len(value)} chars, sha256 {digest})"


def stripe_webhook_route(clients: ServiceClients, secret: str | None) -> Route:
    """`secret`: STRIPE_WEBHOOK_SECRET, one signing secret or several separated by commas."""
    secrets = tuple(part.strip() for part in (secret or "").split(",") if part.strip())

    async def stripe_webhook(request: Request) -> Response:
        if not secrets:
            return error_response("Stripe webhooks are not configured", 503, ErrorCode.UNAVAILABLE)
        payload = await request.body()
        try:
            event = _signed_event(payload, request.headers.get("stripe-signature"), secrets)
        except _Refused as refused:
            return error_response(refused.message, 400, ErrorCode.BAD_USER_INPUT)
        kind = event.get("type")
        forwarding = FORWARDED.get(kind) if isinstance(kind, str) else None
        if forwarding is None:
            return JSONResponse({"received": True, "ignored": True})
        object_id = _object_id(event)
        if object_id is None:
            return error_response(
                f"Invalid payload: no {forwarding.names} id", 400, ErrorCode.BAD_USER_INPUT
            )
        if not forwarding.object_id.fullmatch(object_id):
            log.warning(
                f"stripe webhook: malformed {forwarding.names} id",
                extra={forwarding.log_field: loggable(object_id)},
            )
            return error_response(
                f"Invalid payload: malformed {forwarding.names} id", 400, ErrorCode.BAD_USER_INPUT
            )
        try:
            await forwarding.call(clients, object_id)
        except AppError as exc:
            extra = {"type": kind, forwarding.log_field: object_id, "code": exc.code.value}
            if exc.code in _SETTLED_ENOUGH:
                log.info("stripe webhook: nothing to do", extra={**extra, "error": exc.message})
                return JSONResponse({"received": True})
            if exc.code is ErrorCode.UNAVAILABLE:
                log.warning("stripe webhook: cannot act yet, Stripe will retry", extra=extra)
                return error_response(
                    "Payments are unavailable, try again", 503, ErrorCode.UNAVAILABLE
                )
            log.error("stripe webhook: forwarding failed", extra={**extra, "error": exc.message})
            return error_response(INTERNAL_MESSAGE, 500, ErrorCode.INTERNAL)
        return JSONResponse({"received": True})

    return Route(PATH, stripe_webhook, methods=["POST"])
