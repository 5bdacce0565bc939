"""The stand-in's HTTP face: routes, the `sk_` key check, the optional fixed latency, and
idempotent replay around every call."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from stripe_standin.connect import Connect
from stripe_standin.http import StripeError, form_of, invalid, listing
from stripe_standin.payments import Payments

# An account link's page: its button posts to /complete beside it.
ONBOARDING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stripe stand-in: onboarding</title></head>
<body><h1>Onboarding for {account}</h1>
<p>The Stripe stand-in's hosted onboarding: no form, one button.</p>
<form method="post" action="/_standin/onboarding/{account}/complete">
<button type="submit">Complete onboarding</button></form>
</body></html>
"""

Handler = Callable[[Request, dict[str, Any]], dict[str, Any]]


@dataclass
class StripeStandIn:
    latency_seconds: float = 0.0
    payments: Payments = field(default_factory=Payments)
    connect: Connect = field(init=False)
    replies: dict[str, tuple[bytes, JSONResponse]] = field(default_factory=dict)
    in_flight: int = 0
    most_in_flight: int = 0  # the most requests held at once (tests read it)

    def __post_init__(self) -> None:
        self.connect = Connect(self.payments)

    @property
    def intents(self) -> dict[str, dict[str, Any]]:
        return self.payments.intents

    @property
    def refunded(self) -> set[str]:
        """The intents whose charge is refunded in full."""
        return {c["payment_intent"] for c in self.payments.charges.values() if c["refunded"]}

    def app(self) -> Starlette:
        payments, connect = self.payments, self.connect

        def stripe(handle: Handler):
            async def endpoint(request: Request) -> JSONResponse:
                return await self._answer(request, handle)

            return endpoint

        def base(request: Request) -> str:
            return str(request.base_url).rstrip("/")

        routes = [
            ("/v1/payment_intents", "POST", lambda r, f: payments.create_intent(f)),
            ("/v1/payment_intents/{id}", "GET", lambda r, f: payments.intent(r.path_params["id"])),
            ("/v1/charges/{id}", "GET", lambda r, f: payments.charge(r.path_params["id"])),
            ("/v1/refunds", "POST", lambda r, f: payments.create_refund(f)),
            ("/v1/refunds/{id}", "GET", lambda r, f: payments.refund(r.path_params["id"])),
            ("/v1/accounts", "POST", lambda r, f: connect.create_account(f)),
            ("/v1/accounts/{id}", "GET", lambda r, f: connect.account(r.path_params["id"])),
            ("/v1/account_links", "POST", lambda r, f: connect.create_account_link(f, base(r))),
            ("/v1/transfers", "POST", lambda r, f: connect.create_transfer(f, base(r))),
            ("/v1/transfers/{id}", "GET", lambda r, f: connect.transfer(r.path_params["id"])),
            (
                "/v1/transfers/{id}/reversals",
                "POST",
                lambda r, f: connect.create_reversal(r.path_params["id"], f),
            ),
            ("/v1/balance_transactions", "GET", self._balance_transactions),
        ]
        return Starlette(
            routes=[
                *(Route(path, stripe(handle), methods=[verb]) for path, verb, handle in routes),
                Route(
                    "/_standin/accounts/{id}/complete_onboarding",
                    self.complete_onboarding,
                    methods=["POST"],
                ),
                Route("/_standin/onboarding/{id}", self.onboarding_page, methods=["GET"]),
                Route("/_standin/onboarding/{id}/complete", self.onboarded, methods=["POST"]),
            ]
        )

    def _balance_transactions(self, request: Request, query: dict[str, Any]) -> dict[str, Any]:
        entries, has_more = self.payments.balance_transactions(query)
        return listing("/v1/balance_transactions", entries, has_more)

    async def complete_onboarding(self, request: Request) -> JSONResponse:
        """Test only, not Stripe's: the account's seller finished onboarding."""
        try:
            return JSONResponse(self.connect.complete_onboarding(request.path_params["id"]))
        except StripeError as failure:
            return failure.response()

    async def onboarding_page(self, request: Request) -> Response:
        """An account link's URL: Stripe's hosted onboarding, reduced to one button."""
        account_id = request.path_params["id"]
        if account_id not in self.connect.links:
            return PlainTextResponse("No such account link", 404)
        page = ONBOARDING_PAGE.format(account=html.escape(account_id))
        return HTMLResponse(page)

    async def onboarded(self, request: Request) -> Response:
        try:
            back = self.connect.onboarded_to(request.path_params["id"])
        except StripeError as failure:
            return failure.response()
        return RedirectResponse(back, 303)

    async def _answer(self, request: Request, handle: Handler) -> JSONResponse:
        """Authentication, the fixed latency, and idempotent replay around one call."""
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.latency_seconds:
                await asyncio.sleep(self.latency_seconds)
            if not request.headers.get("authorization", "").startswith("Bearer sk_"):
                return StripeError(
                    401, "invalid_request_error", "Invalid API Key provided"
                ).response()
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
            encoded = body.decode() if request.method == "POST" else request.url.query
            try:
                reply = JSONResponse(handle(request, form_of(encoded)))
            except StripeError as failure:
                reply = failure.response()
            except UnicodeDecodeError:
                reply = invalid("The request body is not form-encoded text.").response()
            if key and reply.status_code < 500:
                self.replies[replay_key] = (body, reply)
            return reply
        finally:
            self.in_flight -= 1
