"""The gateway serves the web app and GraphiQL from the files `make web` builds (WEB_DIST_DIR):
GraphiQL on GET /graphql from the build instead of Strawberry's CDN page, the app's index.html
for its client routes (`no-cache`), the hashed bundles `immutable`, /config.json from the
settings, and a page that says how to build when there is no build (not a 500)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.unit.test_gateway_limits import app

APP_PAGE = '<!doctype html><title>Tickets</title><script src="/assets/app-Ab12.js"></script>'
GRAPHIQL_PAGE = '<!doctype html><title>GraphiQL</title><script src="/assets/graphiql-Cd34.js">'


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "graphiql").mkdir()
    (tmp_path / "index.html").write_text(APP_PAGE)
    (tmp_path / "graphiql" / "index.html").write_text(GRAPHIQL_PAGE)
    (tmp_path / "assets" / "app-Ab12.js").write_text("console.log('app')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("not for clients")
    return tmp_path


def client(**settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app(**settings))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


HTML = {"accept": "text/html"}


async def test_graphiql_is_the_built_page_not_strawberrys_cdn_one(dist):
    async with client(graphql_ide=True, web_dist_dir=str(dist)) as c:
        page = await c.get("/graphql", headers=HTML)
        assert page.status_code == 200
        assert page.text == GRAPHIQL_PAGE
        assert page.headers["cache-control"] == "no-cache"
        assert (await c.get("/assets/app-Ab12.js")).status_code == 200


async def test_graphiql_and_its_assets_are_off_with_the_ide_and_the_app_off(dist):
    async with client(graphql_ide=False, web_app=False, web_dist_dir=str(dist)) as c:
        assert (await c.get("/graphql", headers=HTML)).status_code == 404
        assert (await c.get("/assets/app-Ab12.js")).status_code == 404
        assert (await c.get("/", headers=HTML)).status_code == 404
        assert (await c.get("/config.json")).status_code == 404


async def test_the_app_page_answers_its_client_routes_and_revalidates(dist):
    async with client(web_dist_dir=str(dist)) as c:
        for path in ("/", "/tickets/6751f0c2", "/orders/abc", "/signin?next=%2Fsell"):
            page = await c.get(path, headers=HTML)
            assert (page.status_code, page.text) == (200, APP_PAGE), path
            assert page.headers["cache-control"] == "no-cache"
            assert page.headers["content-type"].startswith("text/html")
            # No other site may frame it (clickjacking the card form).
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_hashed_assets_are_immutable_and_a_missing_one_is_a_404_not_the_page(dist):
    async with client(web_dist_dir=str(dist)) as c:
        asset = await c.get("/assets/app-Ab12.js")
        assert asset.status_code == 200 and asset.text == "console.log('app')"
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert (await c.get("/assets/app-Old9.js")).status_code == 404
        assert (await c.get("/assets/../index.html")).status_code == 404


async def test_files_that_are_not_the_apps_are_not_served(dist):
    async with client(web_dist_dir=str(dist)) as c:
        assert (await c.get("/favicon.svg")).status_code == 200
        for path in ("/secret.txt", "/robots.txt", "/wp-login.php"):
            assert (await c.get(path)).status_code == 404, path
        # A POST to a path the gateway does not have is a 404, as without the app.
        assert (await c.post("/nothing", json={})).status_code == 404


async def test_the_gateways_own_routes_win_over_the_app(dist):
    async with client(web_dist_dir=str(dist)) as c:
        # The probes and /metrics are the admin port's (gateway/admin.py): here, a 404, never
        # the app's page, even though the Ingress sends every path to this port.
        for path in ("/healthz", "/readyz", "/healthz/deps", "/metrics"):
            assert (await c.get(path, headers=HTML)).status_code == 404, path
        reply = await c.post("/graphql", json={"query": "{ currentUser { id } }"})
        assert reply.json() == {"data": {"currentUser": None}}


async def test_config_json_tells_the_app_where_stripe_js_is(dist):
    async with client(
        web_dist_dir=str(dist),
        stripe_js_url="http://127.0.0.1:8420/js.stripe.com/v3/",
        stripe_publishable_key="pk_test_123",
    ) as c:
        reply = await c.get("/config.json")
        assert reply.json() == {
            "stripe": {
                "jsUrl": "http://127.0.0.1:8420/js.stripe.com/v3/",
                "publishableKey": "pk_test_123",
            }
        }
        assert reply.headers["cache-control"] == "no-store"
    async with client(web_dist_dir=str(dist)) as c:  # the defaults: Stripe's own, no key
        stripe = (await c.get("/config.json")).json()["stripe"]
        assert stripe == {"jsUrl": "https://js.stripe.com/v3/", "publishableKey": None}


async def test_without_a_build_the_pages_say_how_to_build_it(tmp_path):
    missing = tmp_path / "never-built"
    async with client(graphql_ide=True, web_dist_dir=str(missing)) as c:
        for path, what in (
            ("/", "The web app"),
            ("/tickets/1", "The web app"),
            ("/graphql", "GraphiQL"),
        ):
            page = await c.get(path, headers=HTML)
            assert page.status_code == 503, path
            assert f"{what} is not built" in page.text and "make web" in page.text
            assert str(missing) in page.text


def test_a_stripe_js_url_must_be_http():
    from common.settings import ConfigError
    from gateway.config import GatewaySettings

    with pytest.raises(ConfigError, match="STRIPE_JS_URL"):
        GatewaySettings.from_env({}, stripe_js_url="javascript:alert(1)")


def test_the_default_build_is_web_dist_of_the_source_tree():
    from gateway.config import GatewaySettings

    root = Path(__file__).resolve().parents[2]
    assert GatewaySettings.from_env({}).web_dist() == root / "web" / "dist"
    assert GatewaySettings.from_env({"WEB_DIST_DIR": "/opt/web"}).web_dist() == Path("/opt/web")
