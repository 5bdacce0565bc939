"""Cross-site request forgery: a request another site's page could make with the user's cookie,
without the browser asking us first, is refused (the rule of Apollo Server's CSRF prevention).

A browser sends a cross-origin request without a CORS preflight only when it is "simple": a GET,
or a POST whose Content-Type is text/plain, application/x-www-form-urlencoded or
multipart/form-data (or absent), with no header of its own. Such a request to a guarded route
must carry a non-empty `X-Apollo-Operation-Name`, `Apollo-Require-Preflight` or
`X-Requested-With` header; setting one makes a browser preflight it, and the preflight fails for
an origin that is not allowed (CORS_ALLOWED_ORIGINS, gateway/origins.py). Otherwise: 400.

What is guarded: every POST to the routes given (/graphql and the REST account routes, which
sign in, sign up and sign out with the cookie), and a GET of a /graphql operation (a `query`, or
a persisted query's hash in `extensions`) that carries the `session` cookie. The GraphiQL page
stays a plain GET, and so does GET /api/users/currentuser (a read without effects, whose answer
another origin cannot read without CORS). A JSON POST (`fetch` with `Content-Type:
application/json`) passes as it is. The Stripe webhook is not guarded: it carries no cookie and
is signature-checked.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.http_errors import GRAPHQL_PATH, send_error
from gateway.session import COOKIE

CSRF_REFUSED = "CSRF_REFUSED"
PREFLIGHT_HEADERS = ("x-apollo-operation-name", "apollo-require-preflight", "x-requested-with")
SIMPLE_CONTENT_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)
MESSAGE = (
    "This request has been blocked as a possible cross-site request forgery: send it with"
    " Content-Type: application/json, or with a non-empty X-Apollo-Operation-Name,"
    " Apollo-Require-Preflight or X-Requested-With header"
)


# What a page of an allowed origin may send and read (CORS_ALLOWED_ORIGINS).
CORS_HEADERS = ("content-type", "authorization", *PREFLIGHT_HEADERS)
CORS_EXPOSED = ("retry-after", "x-request-id")


def cross_origin_middleware(
    allowed_origins: Collection[str], guarded_paths: Collection[str]
) -> list[Middleware]:
    """CORS with credentials for the allowed origins only (a preflight from any other gets no
    Access-Control-Allow-Origin, so the browser sends nothing), then the CSRF guard."""
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(allowed_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=list(CORS_HEADERS),
            expose_headers=list(CORS_EXPOSED),
            max_age=600,
        ),
        Middleware(CsrfGuard, paths=guarded_paths),
    ]


def _has_session_cookie(headers: Headers) -> bool:
    return any(
        part.strip().startswith(f"{COOKIE}=")
        for cookie in headers.getlist("cookie")
        for part in cookie.split(";")
    )


def _is_operation(scope: Scope) -> bool:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    # `extensions`: a persisted query's hash stands for its text (docs/api.md PQ-2).
    return bool(query.get("query") or query.get("extensions"))


def forgeable(scope: Scope, graphql_path: str = GRAPHQL_PATH) -> bool:
    """A request a foreign page could have sent with the user's cookie and no preflight."""
    headers = Headers(scope=scope)
    if any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        return False
    method = scope["method"]
    if method == "POST":
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return content_type in SIMPLE_CONTENT_TYPES or not content_type
    if method in ("GET", "HEAD") and scope["path"] == graphql_path:
        return _has_session_cookie(headers) and _is_operation(scope)
    return False  # any other method is preflighted by a browser


class CsrfGuard:
    """ASGI middleware: 400 with a JSON error for a forgeable request to a guarded path."""

    def __init__(self, app: ASGIApp, paths: Collection[str], graphql_path: str = GRAPHQL_PATH):
        self.app = app
        self.paths = frozenset(paths)
        self.graphql_path = graphql_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] not in self.paths
            or not forgeable(scope, self.graphql_path)
        ):
            await self.app(scope, receive, send)
            return
        await send_error(scope, send, 400, MESSAGE, CSRF_REFUSED)
