"""The web app and GraphiQL, as built by Vite into WEB_DIST_DIR (`make web`: web/dist).

- `/assets/*`: the hashed bundles both pages load, answered `immutable` (a new build has new
  names); a name that is not there is a 404, never the app's page.
- `/config.json`: what the app learns at run time from this gateway's settings (where Stripe.js
  is and the publishable key), so one build serves every environment.
- Any other GET for a page (`/`, `/tickets/<id>`, `/orders`...): the app's index.html, `no-cache`,
  so a new build is picked up on the next visit; the app routes on the client.
- GET /graphql from a browser: GraphiQL's page (see `graphiql_page`).

Without a build, the app's routes and GraphiQL answer 503 with a page that says how to build it.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# The security headers (CSP, nosniff...) of every response are gateway/security_headers.py's.
PAGE_HEADERS = {"cache-control": REVALIDATE}
# The app's and GraphiQL's pages; everything else they load is under assets/.
APP_PAGE = "index.html"
GRAPHIQL_PAGE = "graphiql/index.html"
# Files of web/public/, copied to the top of the build as they are.
PUBLIC_FILES = frozenset({"favicon.svg"})
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

NOT_BUILT_STYLE = "body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto }"
# It runs nothing, and its one inline style is allowed by its hash (the pages' policy has none).
NOT_BUILT_CSP = (
    "default-src 'none'; style-src "
    f"'sha256-{base64.b64encode(hashlib.sha256(NOT_BUILT_STYLE.encode()).digest()).decode()}'; "
    "frame-ancestors 'none'"
)
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{what} is not built</title>
<style>{style}</style></head>
<body>
<h1>{what} is not built</h1>
<p>The gateway serves it from <code>{dist}</code>, and there is no <code>{page}</code> there.</p>
<p>Build it with <code>make web</code> (it runs <code>npm ci</code> and
<code>npm run build</code> in <code>web/</code>; <code>make run</code> does it too), or point
<code>WEB_DIST_DIR</code> at a built copy.</p>
</body></html>
"""


class _Assets(StaticFiles):
    """Vite's hashed bundles: a file's name changes with its content, so it never goes stale."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = IMMUTABLE
        return response


class WebBuild:
    """The built files in `dist`, read at each request: a rebuild shows without a restart."""

    def __init__(self, dist: Path) -> None:
        self.dist = dist

    def _not_built(self, what: str, page: str) -> HTMLResponse:
        html = NOT_BUILT.format(what=what, dist=self.dist, page=page, style=NOT_BUILT_STYLE)
        headers = {"cache-control": "no-store", "content-security-policy": NOT_BUILT_CSP}
        return HTMLResponse(html, status_code=503, headers=headers)

    def graphiql_page(self) -> Response:
        page = self.dist / GRAPHIQL_PAGE
        if not page.is_file():
            return self._not_built("GraphiQL", GRAPHIQL_PAGE)
        return FileResponse(page, media_type="text/html", headers=PAGE_HEADERS)

    def app_page(self) -> Response:
        page = self.dist / APP_PAGE
        if not page.is_file():
            return self._not_built("The web app", APP_PAGE)
        return FileResponse(page, media_type="text/html", headers=PAGE_HEADERS)

    def assets_route(self) -> Mount:
        return Mount("/assets", app=_Assets(directory=self.dist / "assets", check_dir=False))

    def app_routes(self, runtime_config: dict[str, object]) -> list[BaseRoute]:
        """The app's routes; the last one takes every path no other route of the gateway has."""

        async def config(request: Request) -> Response:
            return JSONResponse(runtime_config, headers={"cache-control": "no-store"})

        async def page(request: Request) -> Response:
            path = request.path_params["path"]
            if request.method not in ("GET", "HEAD"):
                return Response(status_code=404)
            if path in PUBLIC_FILES and (self.dist / path).is_file():
                return FileResponse(self.dist / path, headers={"cache-control": REVALIDATE})
            # A file name that is not one of ours (/robots.txt, /wp-login.php) is not a page.
            if "." in path.rsplit("/", 1)[-1]:
                return Response("Not Found", status_code=404, media_type="text/plain")
            return self.app_page()

        return [
            Route("/config.json", config, methods=["GET"]),
            # Every method, so a POST to a path the gateway does not have is a 404 as before.
            Route("/{path:path}", page, methods=ANY_METHOD),
        ]
