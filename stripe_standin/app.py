"""The stand-in's HTTP face: the routes (routes.py), the key check (`sk_`, or `pk_` where Stripe.js
may call), unknown parameters refused, the optional fixed latency, idempotent replay around
every call, the test endpoints (`/_standin/...`, not Stripe's), and the Stripe.js stand-in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stripe_standin import onboarding
from stripe_standin.connect import Connect
from stripe_standin.disputes import Disputes
from stripe_standin.events import EVERY_EVENT
from stripe_standin.http import StripeError, form_of, invalid
from stripe_standin.payments import Payments
from stripe_standin.routes import Endpoint, endpoints
from stripe_standin.stripe_js import script


@dataclass
class StripeStandIn:
    latency_seconds: float = 0.0
    # (url, secret) of webhook endpoints registered at start, for every event (`--webhook`)
    webhooks: list[tuple[str, str]] = field(default_factory=list)
    payments: Payments = field(default_factory=Payments)
    connect: Connect = field(init=False)
    disputes: Disputes = field(init=False)
    replies: dict[str, tuple[bytes, JSONResponse]] = field(default_factory=dict)
    in_flight: int = 0
    most_in_flight: int = 0  # the most requests held at once (tests read it)

    def __post_init__(self) -> None:
        self.connect = Connect(self.payments)
        self.disputes = Disputes(self.payments)
        for url, secret in self.webhooks:
            self.payments.events.create_endpoint(
                {"url": url, "enabled_events": [EVERY_EVENT]}, secret=secret
            )

    @property
    def intents(self) -> dict[str, dict[str, Any]]:
        return self.payments.intents

    @property
    def refunded(self) -> set[str]:
        """The intents whose charge is refunded in full."""
        return {c["payment_intent"] for c in self.payments.charges.values() if c["refunded"]}

    def app(self) -> Starlette:
        def stripe(endpoint: Endpoint):
            async def answer(request: Request) -> JSONResponse:
                return await self._answer(request, endpoint)

            return answer

        def test_only(act):
            async def answer(request: Request) -> JSONResponse:
                try:
                    form = form_of((await request.body()).decode())
                    return JSONResponse(act(request.path_params["id"], form))
                except StripeError as failure:
                    return failure.response()
                except UnicodeDecodeError:
                    return invalid("The request body is not form-encoded text.").response()

            return answer

        connect, payments, disputes = self.connect, self.payments, self.disputes
        tests = {
            "accounts/{id}/complete_onboarding": lambda i, f: connect.complete_onboarding(i),
            "accounts/{id}/withhold_onboarding": lambda i, f: connect.withhold_onboarding(i),
            "payment_intents/{id}/authenticate": payments.authenticate,
            "disputes/{id}/decide": lambda i, f: disputes.decide(i, f.get("status", "")),
            "charges/{id}/dispute": lambda i, f: disputes.dispute_charge(i),
        }
        return Starlette(
            routes=[
                *(Route(e.path, stripe(e), methods=[e.verb]) for e in endpoints(self)),
                *(
                    Route(f"/_standin/{path}", test_only(act), methods=["POST"])
                    for path, act in tests.items()
                ),
                Route("/_standin/onboarding/{token}", self.onboarding_page, methods=["GET"]),
                Route("/_standin/onboarding/{token}", self.onboarding_answer, methods=["POST"]),
                Route("/js.stripe.com/v3/", self.stripe_js, methods=["GET"]),
                Route("/v3/", self.stripe_js, methods=["GET"]),
            ],
            # Stripe.js runs in the web app's pages (another origin) and calls the API from there.
            middleware=[
                Middleware(
                    CORSMiddleware,
                    allow_origins=["*"],
                    allow_methods=["GET", "POST"],
                    allow_headers=["authorization", "content-type"],
                )
            ],
        )

    async def onboarding_page(self, request: Request) -> Response:
        return onboarding.page(self.connect, request.path_params["token"])

    async def onboarding_answer(self, request: Request) -> Response:
        return await onboarding.answer(self.connect, request)

    async def stripe_js(self, request: Request) -> Response:
        return Response(
            script(str(request.base_url).rstrip("/")),
            media_type="text/javascript",
            headers={"cache-control": "no-cache"},
        )

    def _refusal(self, request: Request, endpoint: Endpoint) -> StripeError | None:
        """Stripe's answer to a key this endpoint does not take, if so."""
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        request.state.publishable = key.startswith("pk_")
        if key.startswith("sk_") or (endpoint.publishable and request.state.publishable):
            return None
        if request.state.publishable:
            return StripeError(
                401,
                "invalid_request_error",
                "This API call cannot be made with a publishable API key. Please use a secret"
                " API key.",
            )
        return StripeError(401, "invalid_request_error", "Invalid API Key provided")

    async def _answer(self, request: Request, endpoint: Endpoint) -> JSONResponse:
        """Authentication, the fixed latency, and idempotent replay around one call."""
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.latency_seconds:
                await asyncio.sleep(self.latency_seconds)
            refused = self._refusal(request, endpoint)
            if refused is not None:
                return refused.response()
            body = await request.body()
            key = request.headers.get("idempotency-key") if request.method == "POST" else None
            replay_key = f"{request.url.path} {key}"
            if key and replay_key in self.replies:
                first_body, reply = self.replies[replay_key]
                if first_body != body:
                    return StripeError(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters"
                        " they were first used with.",
                    ).response()
                return reply
            try:
                encoded = body.decode() if request.method == "POST" else request.url.query
                form = form_of(encoded)
                unknown = sorted(set(form) - endpoint.known)
                if unknown:
                    raise invalid(f"Received unknown parameter: {unknown[0]}", unknown[0])
                reply = JSONResponse(endpoint.handle(request, form))
            except StripeError as failure:
                reply = failure.response()
            except UnicodeDecodeError:
                reply = invalid("The request body is not form-encoded text.").response()
            if key and reply.status_code < 500:
                self.replies[replay_key] = (body, reply)
            return reply
        finally:
            self.in_flight -= 1
