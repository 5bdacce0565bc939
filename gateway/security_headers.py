"""The browser security headers of every response on the public port, computed in this one place
from the settings (STRIPE_JS_URL, COOKIE_SECURE) and added by one middleware (gateway/app.py).

What a browser runs under the policy of its own response, a page (the web app, GraphiQL) or a
script (a worker would be), gets the page's Content-Security-Policy: this origin's files, the
Stripe.js that STRIPE_JS_URL names, the GraphQL WebSocket, and nothing inline. Everything else
(JSON, CSS, images, an SVG opened on its own) runs nothing: `default-src 'none'`. Every response
gets `nosniff`, the Referrer-Policy and Cross-Origin-Resource-Policy, and HSTS when
COOKIE_SECURE says the site is served over TLS. A response whose route set its own CSP keeps it
(the page shown when there is no build: gateway/web.py). docs/security.md says why each value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.settings import ConfigError
from gateway.http_errors import GRAPHQL_PATH
from gateway.origins import normalized_origin

# Stripe's own Stripe.js: the sources Stripe's integration security guide lists for Stripe.js
# and Elements (its card field and 3-D Secure are frames from js.stripe.com/hooks.stripe.com;
# it calls api.stripe.com).
STRIPE_JS_ORIGIN = "https://js.stripe.com"
STRIPE_SCRIPTS = ("https://js.stripe.com", "https://*.js.stripe.com")
STRIPE_CONNECT = ("https://api.stripe.com",)
STRIPE_FRAMES = ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com")

HSTS = "max-age=31536000; includeSubDomains"
# No URL of ours (order ids, a GraphiQL document in ?q=) goes to Stripe or a link's target.
REFERRER_POLICY = "same-origin"
# What runs nothing, and may be framed by no one.
NOTHING = "default-src 'none'; frame-ancestors 'none'"
# Powerful features no page of ours uses, denied to it and to every frame in it; the Payment
# Request API (`payment`) is left to Stripe's frames only (wallets, Secure Payment Confirmation).
DENIED_FEATURES = (
    "accelerometer",
    "autoplay",
    "browsing-topics",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "hid",
    "magnetometer",
    "microphone",
    "midi",
    "serial",
    "usb",
)
# A Host header that can be put in a source expression as it is (a name or an IPv4 address, or
# an IPv6 one in brackets, and a port): anything else gets no WebSocket source but 'self'.
_SANE_HOST = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?")
_PAGE_TYPES = ("text/html", "text/javascript", "application/javascript")


def _origin(url: str) -> str:
    """scheme://host[:port] of STRIPE_JS_URL, as a source expression (no default port)."""
    netloc = urlsplit(url).netloc.rpartition("@")[2]
    origin = normalized_origin(f"{urlsplit(url).scheme}://{netloc}")
    if origin is None or not _SANE_HOST.fullmatch(origin.split("://", 1)[1]):
        raise ConfigError(f"STRIPE_JS_URL must be an http(s) URL with a host, got {url!r}")
    return origin


@dataclass(frozen=True)
class StripeSources:
    """Where the page's Stripe.js comes from, calls and frames."""

    script: tuple[str, ...]
    connect: tuple[str, ...]
    frame: tuple[str, ...]

    @classmethod
    def of(cls, stripe_js_url: str) -> StripeSources:
        """Stripe's documented set for Stripe's own Stripe.js; for any other (the Stripe
        stand-in's under `ticketing run`), its origin, which serves its API and any frame too."""
        origin = _origin(stripe_js_url)
        if origin == STRIPE_JS_ORIGIN:
            return cls(STRIPE_SCRIPTS, STRIPE_CONNECT, STRIPE_FRAMES)
        return cls((origin,), (origin,), (origin,))


def _sources(*parts: Iterable[str]) -> str:
    return " ".join(dict.fromkeys(source for part in parts for source in part))


class BrowserPolicy:
    """The headers for one deployment's settings; `headers` picks those of one response."""

    def __init__(self, stripe_js_url: str, hsts: bool) -> None:
        self.stripe = StripeSources.of(stripe_js_url)
        payment = " ".join(f'"{o}"' for o in self.stripe.frame if "*" not in o)
        self.permissions_policy = ", ".join(
            [*(f"{feature}=()" for feature in DENIED_FEATURES), f"payment=({payment})"]
        )
        # What does not depend on the response, made once: every JSON answer of /graphql gets
        # these two sets as they are (read-only), not a new dict each.
        self._every_response = {
            "x-content-type-options": "nosniff",
            "referrer-policy": REFERRER_POLICY,
            "cross-origin-resource-policy": "same-origin",
        }
        if hsts:
            self._every_response["strict-transport-security"] = HSTS
        self._not_a_page = {**self._every_response, "content-security-policy": NOTHING}

    def page_csp(self, socket_origin: str | None, graphiql: bool = False) -> str:
        """The policy of a page or script. `socket_origin`: ws(s)://host of this gateway, for
        the GraphQL WebSocket (CSP 3 browsers match it with 'self' already; older ones do not).
        GraphiQL's page allows inline styles (its libraries insert <style> elements at run
        time) and fonts in data: URLs (its stylesheet embeds them); the app's does not."""
        directives = {
            "default-src": "'self'",
            "script-src": _sources(["'self'"], self.stripe.script),
            "style-src": "'self' 'unsafe-inline'" if graphiql else "'self'",
            "font-src": "'self' data:" if graphiql else "'self'",
            "img-src": "'self' data:",
            "connect-src": _sources(
                ["'self'"], [socket_origin] if socket_origin else [], self.stripe.connect
            ),
            "frame-src": _sources(self.stripe.frame),
            "object-src": "'none'",
            "base-uri": "'none'",
            "form-action": "'self'",
            "frame-ancestors": "'none'",
        }
        return "; ".join(f"{name} {value}" for name, value in directives.items())

    def headers(self, scope: Scope, status: int, content_type: str) -> Mapping[str, str]:
        """The headers for a response of `status` and `content_type` to the request `scope`
        (read-only: the same mapping may serve many responses)."""
        if status == 304:
            # Typeless, and merged by the browser into the response it stored: that keeps its own.
            return self._every_response
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in _PAGE_TYPES:
            return self._not_a_page
        headers = dict(self._every_response)
        graphiql = media_type == "text/html" and scope.get("path") == GRAPHQL_PATH
        headers["content-security-policy"] = self.page_csp(_socket_origin(scope), graphiql)
        if media_type == "text/html":
            headers["permissions-policy"] = self.permissions_policy
            # Our window is not reachable from a page that opened it; popups we open (a
            # wallet's, a bank's) keep theirs.
            headers["cross-origin-opener-policy"] = "same-origin-allow-popups"
            headers["x-frame-options"] = "DENY"  # frame-ancestors for browsers without CSP 2
        return headers


def _socket_origin(scope: Scope) -> str | None:
    host = next((v.decode("latin-1") for k, v in scope.get("headers") or () if k == b"host"), "")
    if not _SANE_HOST.fullmatch(host):
        return None
    # ws: matches wss: too (CSP 3); behind a TLS proxy the scheme is the forwarded one.
    scheme = "wss" if scope.get("scheme") == "https" else "ws"
    return f"{scheme}://{host.lower()}"


class SecurityHeaders:
    """ASGI middleware: the policy's headers on every HTTP response, unless the route set one."""

    def __init__(self, app: ASGIApp, policy: BrowserPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers") or ())
                present = {name.lower() for name, _ in raw}
                content_type = next(
                    (v.decode("latin-1") for k, v in raw if k.lower() == b"content-type"), ""
                )
                headers = self.policy.headers(scope, message["status"], content_type)
                for name, value in headers.items():
                    if name.encode() not in present:
                        raw.append((name.encode(), value.encode()))
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)
