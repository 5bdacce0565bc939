"""A Stripe stand-in for benchmarks only: answers the PaymentIntent and Refund calls the payments
service makes through the Stripe SDK, after a fixed latency (default 300 ms, Stripe's typical),
so the purchase figure measures our services rather than localstripe (which rewrites its whole
store on every write and slows as charges accumulate). Tests keep localstripe.

    python -m bench.stripe_standin --port 8420 --latency-ms 300

What it answers (in Stripe's JSON, enough for the SDK and `svc_payments.adapters.stripe_gateway`):
- `POST /v1/payment_intents` with `confirm=true`: `succeeded`; Stripe's test cards
  `pm_card_chargeCustomerFail`, `pm_card_visa_chargeDeclined`, `pm_card_chargeDeclined*`: 402
  `card_error` naming the intent (stored `requires_payment_method`);
  `pm_card_threeDSecure2Required`, `pm_card_authenticationRequired`: `requires_action`; a payment
  method not starting with `pm_`: 400 on `payment_method`.
- `GET /v1/payment_intents/{id}`: the intent, or 404 `resource_missing`.
- `POST /v1/refunds` with `payment_intent`: a succeeded refund; the intent's charge refunded
  once, then 400 `charge_already_refunded`.
- `Idempotency-Key`: the same key with the same body replays the first answer; with another body,
  400 `idempotency_error`. A missing or non-`sk_` bearer key: 401.
Everything lives in memory; nothing is written anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DECLINED = ("pm_card_chargeCustomerFail", "pm_card_visa_chargeDeclined", "pm_card_chargeDeclined")
NEEDS_ACTION = ("pm_card_threeDSecure2Required", "pm_card_authenticationRequired")
DECLINE_MESSAGE = "Your card was declined."


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def form_of(body: bytes) -> dict[str, Any]:
    """Stripe's form encoding: `metadata[k]=v` into a dict, `types[0]=card` into a list."""
    form: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        nested = re.fullmatch(r"(\w+)\[(\w*)\]", key)
        if nested is None:
            form[key] = value
        elif nested.group(2).isdigit() or not nested.group(2):
            form.setdefault(nested.group(1), []).append(value)
        else:
            form.setdefault(nested.group(1), {})[nested.group(2)] = value
    return form


def error(status: int, kind: str, message: str, **fields: Any) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, **fields}}, status)


@dataclass
class StripeStandIn:
    latency_seconds: float = 0.3
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunded: set[str] = field(default_factory=set)
    replies: dict[str, tuple[bytes, JSONResponse]] = field(default_factory=dict)
    in_flight: int = 0
    most_in_flight: int = 0  # the most requests held at once (tests read it)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/payment_intents", self.create_intent, methods=["POST"]),
                Route("/v1/payment_intents/{id}", self.retrieve_intent, methods=["GET"]),
                Route("/v1/refunds", self.create_refund, methods=["POST"]),
            ]
        )

    async def _answer(self, request: Request, handle) -> JSONResponse:
        """Authentication, the fixed latency, and idempotent replay around one call."""
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency_seconds)
            if not request.headers.get("authorization", "").startswith("Bearer sk_"):
                return error(401, "invalid_request_error", "Invalid API Key provided")
            body = await request.body()
            key = request.headers.get("idempotency-key")
            if key and key in self.replies:
                first_body, reply = self.replies[key]
                if first_body != body:
                    return error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters"
                        " they were first used with.",
                    )
                return reply
            reply = handle(form_of(body))
            if key and reply.status_code < 500:
                self.replies[key] = (body, reply)
            return reply
        finally:
            self.in_flight -= 1

    async def create_intent(self, request: Request) -> JSONResponse:
        return await self._answer(request, self._create_intent)

    async def retrieve_intent(self, request: Request) -> JSONResponse:
        intent_id = request.path_params["id"]
        return await self._answer(request, lambda _form: self._retrieve(intent_id))

    async def create_refund(self, request: Request) -> JSONResponse:
        return await self._answer(request, self._refund)

    def _create_intent(self, form: dict[str, Any]) -> JSONResponse:
        method = form.get("payment_method", "")
        if not method.startswith("pm_"):
            return error(
                400,
                "invalid_request_error",
                f"No such PaymentMethod: '{method}'",
                code="resource_missing",
                param="payment_method",
            )
        try:
            amount = int(form.get("amount", ""))
        except ValueError:
            return error(400, "invalid_request_error", "Invalid integer", param="amount")
        intent_id = new_id("pi")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": form.get("currency", "usd"),
            "status": "requires_confirmation",
            "client_secret": f"{intent_id}_secret_{uuid.uuid4().hex[:24]}",
            "confirmation_method": "automatic",
            "capture_method": "automatic",
            "payment_method": method,
            "payment_method_types": form.get("payment_method_types") or ["card"],
            "metadata": form.get("metadata") or {},
            "created": int(time.time()),
            "livemode": False,
            "last_payment_error": None,
            "next_action": None,
            "latest_charge": None,
        }
        self.intents[intent_id] = intent
        if form.get("confirm") != "true":
            return JSONResponse(intent)
        if method.startswith(DECLINED):
            intent["status"] = "requires_payment_method"
            failure = {"type": "card_error", "code": "card_declined", "message": DECLINE_MESSAGE}
            intent["last_payment_error"] = failure
            return error(
                402,
                "card_error",
                DECLINE_MESSAGE,
                code="card_declined",
                decline_code="generic_decline",
                payment_intent=intent,
            )
        if method.startswith(NEEDS_ACTION):
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
            return JSONResponse(intent)
        intent.update(status="succeeded", amount_received=amount, latest_charge=new_id("ch"))
        return JSONResponse(intent)

    def _retrieve(self, intent_id: str) -> JSONResponse:
        intent = self.intents.get(intent_id)
        if intent is None:
            return error(
                404,
                "invalid_request_error",
                f"No such payment_intent: '{intent_id}'",
                code="resource_missing",
                param="intent",
            )
        return JSONResponse(intent)

    def _refund(self, form: dict[str, Any]) -> JSONResponse:
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return error(
                400,
                "invalid_request_error",
                "This PaymentIntent has no successful charge to refund.",
                param="payment_intent",
            )
        if intent["id"] in self.refunded:
            return error(
                400,
                "invalid_request_error",
                f"Charge {intent['latest_charge']} has already been refunded.",
                code="charge_already_refunded",
            )
        self.refunded.add(intent["id"])
        return JSONResponse(
            {
                "id": new_id("re"),
                "object": "refund",
                "amount": intent["amount"],
                "currency": intent["currency"],
                "charge": intent["latest_charge"],
                "payment_intent": intent["id"],
                "status": "succeeded",
                "created": int(time.time()),
                "metadata": {},
            }
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stripe_standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=300.0, help="every answer's delay")
    args = parser.parse_args(argv)
    app = StripeStandIn(latency_seconds=args.latency_ms / 1000).app()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
