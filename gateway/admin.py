"""The gateway's admin port (GATEWAY_ADMIN_PORT, 9100): its probes (`/healthz`, `/readyz`,
`/healthz/deps`, gateway/probes.py) and `/metrics`, for the kubelet and Prometheus, apart from the
public port (GATEWAY_PORT, 8000) that the Ingress publishes whole (`/` by prefix).

Every worker process listens on both sockets (uvicorn serves each socket it is given, and with
GATEWAY_WORKERS > 1 every worker gets both), so one app answers both and tells them apart by the
local port of the connection: a probe asks the same worker, with the same channels and Redis, as
the requests it vouches for, and /metrics adds up every worker's values whichever one answers.
On the public port those paths are a 404, whatever else is served there (the web app's pages).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.access import AccessLog


def admin_app(routes: Sequence[Route]) -> Starlette:
    """The admin port's app: these routes, each request logged at DEBUG without a span."""
    paths = [route.path for route in routes]
    return Starlette(
        routes=list(routes), middleware=[Middleware(AccessLog, routes=paths, probes=paths)]
    )


def not_public(routes: Sequence[Route]) -> list[BaseRoute]:
    """404 on the public port for the admin paths (before any catch-all of the app's)."""

    async def not_found(request: Request) -> Response:
        return PlainTextResponse("Not Found", status_code=404)

    return [Route(route.path, not_found, methods=None) for route in routes]


class ByLocalPort:
    """One ASGI app for the gateway's two sockets: a connection to `admin_port` reaches `admin`,
    any other `public`, which also gets the lifespan (it opens and closes what both use)."""

    def __init__(self, public: ASGIApp, admin: ASGIApp, admin_port: int) -> None:
        self.public = public
        self.admin = admin
        self.admin_port = admin_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server: Any = scope.get("server")
        on_admin = (
            scope["type"] != "lifespan" and server is not None and server[1] == self.admin_port
        )
        await (self.admin if on_admin else self.public)(scope, receive, send)
