"""The /graphql limits, and how a refusal reaches an HTTP client of /graphql.

`GraphQLLimits` counts every request before Strawberry reads it (a refused one costs no parsing):
a signed-in caller's against its user (a token our key signed and not expired; revocation is
the resolvers' business), anyone else's against its visitor (the `anon_id` cookie,
gateway/visitors.py, when it brings one) and then its client address. The address limit is
sized for the visitors of a shared address (an office NAT; docs/security.md), the visitor limit
for one person: a visitor over its limit is refused before its address counts the request, so
it cannot use up what the address allows the others; a client that keeps no cookie, or makes up
a new one each time, is held by the address limit alone. Over the limit: HTTP 429,
`Retry-After`, and one error with `extensions.code` RATE_LIMITED.

They fail open: without Redis the requests go through uncounted. The catalogue is served
without Redis (the ticket cache falls back to tickets), a limiter that cannot count should not
take it down, and what a request can cost is bounded by the query limits anyway.

`RetryAfterHeader` does the same for errors raised while executing (a signin mutation over its
limit, auth's password hashing at capacity): 429 for RATE_LIMITED, 503 for an UNAVAILABLE that
says when to come back, with `Retry-After`.
"""

from __future__ import annotations

from collections.abc import Iterator

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from common.errors import AppError, ErrorCode, RateLimited, Unauthenticated
from common.jwt import TokenVerifier
from common.rate_limiter import Counting, Limit, Limiter, OnOutage
from gateway.config import GatewaySettings
from gateway.http_errors import graphql_error
from gateway.rate_limits.client_address import address_key, client_address
from gateway.session import token_of
from gateway.visitors import visitor_id


class GraphQLLimits:
    """ASGI middleware for the /graphql route."""

    def __init__(
        self, app: ASGIApp, limiter: Limiter, verifier: TokenVerifier, settings: GatewaySettings
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.verifier = verifier
        self.per_user = Limit(
            "graphql-user",
            settings.graphql_user_limit,
            settings.graphql_user_window_seconds,
            Counting.APPROXIMATE,
            OnOutage.ALLOW,
            "Too many requests.",
        )
        self.per_visitor = Limit(
            "graphql-visitor",
            settings.graphql_visitor_limit,
            settings.graphql_visitor_window_seconds,
            Counting.APPROXIMATE,
            OnOutage.ALLOW,
            "Too many requests.",
        )
        self.per_address = Limit(
            "graphql-address",
            settings.graphql_address_limit,
            settings.graphql_address_window_seconds,
            Counting.APPROXIMATE,
            OnOutage.ALLOW,
            "Too many requests from this address.",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A WebSocket handshake (subscriptions) counts as one request; refused, it gets the
        # same 429 as an HTTP response, before the connection is accepted.
        if scope["type"] in ("http", "websocket"):
            connection = HTTPConnection(scope)
            user = self._user(connection)
            try:
                if user is not None:
                    await self.limiter.hit(self.per_user, user)
                else:
                    visitor = visitor_id(connection)
                    if visitor is not None:
                        await self.limiter.hit(self.per_visitor, visitor)
                    address = address_key(client_address(connection))
                    await self.limiter.hit(self.per_address, address)
            except RateLimited as exc:
                response = rate_limited_response(exc)
                if scope["type"] == "websocket":
                    await WebSocket(scope, receive, send).send_denial_response(response)
                else:
                    await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _user(self, connection: HTTPConnection) -> str | None:
        token = token_of(connection)
        if not token:
            return None
        try:
            return self.verifier.decode(token).sub
        except Unauthenticated:
            return None  # counted by address, like any anonymous request


def rate_limited_response(exc: RateLimited) -> JSONResponse:
    return JSONResponse(
        {"errors": [graphql_error(exc.message, ErrorCode.RATE_LIMITED.value)]},
        status_code=429,
        headers={"Retry-After": str(exc.retry_after_seconds)},
    )


class RetryAfterHeader(SchemaExtension):
    """Listed after ErrorCodes, so it sees the original errors before they are masked."""

    def on_operation(self) -> Iterator[None]:
        yield
        errors = getattr(self.execution_context.result, "errors", None) or []
        originals = [error.original_error for error in errors]
        waits = [e for e in originals if isinstance(e, AppError) and e.retry_after_seconds]
        response = getattr(self.execution_context.context, "response", None)
        if not waits or response is None:
            return
        response.status_code = 429 if any(isinstance(e, RateLimited) for e in waits) else 503
        response.headers["Retry-After"] = str(max(e.retry_after_seconds or 1 for e in waits))
