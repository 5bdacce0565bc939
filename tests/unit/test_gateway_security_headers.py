"""The browser security headers on what the gateway answers (gateway/security_headers.py): the
pages (the app, GraphiQL) and their scripts get a Content-Security-Policy that runs this origin's
files and the configured Stripe.js only, nothing inline; JSON and other files run nothing; every
response is `nosniff`; HSTS only when COOKIE_SECURE says the site is served over TLS.

Before gateway/security_headers.py, pages carried `frame-ancestors 'none'` as their whole CSP,
/config.json and the API's JSON none at all, and no response HSTS or a Permissions-Policy."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
import pytest

from common.settings import ConfigError
from gateway.config import GatewaySettings
from gateway.security_headers import StripeSources
from tests.unit.test_gateway_limits import app

HTML = {"accept": "text/html"}
JSON = {"content-type": "application/json"}
LOCALSTRIPE_JS = "http://127.0.0.1:8420/js.stripe.com/v3/"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "graphiql").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><script src="/assets/app-Ab12.js">')
    (tmp_path / "graphiql" / "index.html").write_text("<!doctype html><title>GraphiQL</title>")
    (tmp_path / "assets" / "app-Ab12.js").write_text("console.log('app')")
    (tmp_path / "assets" / "app-Ab12.css").write_text("body { margin: 0 }")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


def client(dist: Path, **settings) -> httpx.AsyncClient:
    settings.setdefault("graphql_ide", True)
    transport = httpx.ASGITransport(app=app(web_dist_dir=str(dist), **settings))
    return httpx.AsyncClient(transport=transport, base_url="http://shop.example.test:8000")


def csp(response: httpx.Response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy, directive by directive."""
    directives = [d.split() for d in response.headers["content-security-policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


def assert_every_response_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cross-origin-resource-policy"] == "same-origin"


def assert_runs_nothing(response: httpx.Response) -> None:
    assert_every_response_headers(response)
    assert csp(response) == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}


def assert_page_policy(response: httpx.Response, stripe_scripts: list[str]) -> dict:
    assert_every_response_headers(response)
    policy = csp(response)
    assert policy["default-src"] == ["'self'"]
    # This origin's files and Stripe.js, nothing inline, nothing evaluated.
    assert policy["script-src"] == ["'self'", *stripe_scripts]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["img-src"] == ["'self'", "data:"]
    # The GraphQL WebSocket to this very host, named for browsers whose 'self' misses ws:.
    assert policy["connect-src"][:2] == ["'self'", "ws://shop.example.test:8000"]
    return policy


async def test_the_app_page_runs_only_its_own_files_and_stripe_js(dist):
    async with client(dist) as c:
        for path in ("/", "/orders/abc"):
            page = await c.get(path, headers=HTML)
            assert page.status_code == 200
            policy = assert_page_policy(page, ["https://js.stripe.com", "https://*.js.stripe.com"])
            assert policy["style-src"] == ["'self'"]  # no inline style either
            assert policy["font-src"] == ["'self'"]
            assert policy["connect-src"][2:] == ["https://api.stripe.com"]
            # 3-D Secure and the card field are Stripe's frames.
            assert policy["frame-src"] == [
                "https://js.stripe.com",
                "https://*.js.stripe.com",
                "https://hooks.stripe.com",
            ]
            features = dict(
                f.strip().split("=", 1) for f in page.headers["permissions-policy"].split(",")
            )
            for feature in ("camera", "microphone", "geolocation", "usb", "browsing-topics"):
                assert features[feature] == "()", feature
            assert features["payment"] == '("https://js.stripe.com" "https://hooks.stripe.com")'
            assert page.headers["cross-origin-opener-policy"] == "same-origin-allow-popups"
            assert page.headers["x-frame-options"] == "DENY"


async def test_the_stripe_origin_follows_stripe_js_url(dist):
    async with client(dist, stripe_js_url=LOCALSTRIPE_JS) as c:
        page = await c.get("/", headers=HTML)
    # The Stripe stand-in serves its API and its Stripe.js from the same origin.
    policy = assert_page_policy(page, ["http://127.0.0.1:8420"])
    assert policy["connect-src"][2:] == ["http://127.0.0.1:8420"]
    assert policy["frame-src"] == ["http://127.0.0.1:8420"]
    assert "stripe.com" not in page.headers["content-security-policy"]
    assert 'payment=("http://127.0.0.1:8420")' in page.headers["permissions-policy"]


async def test_graphiql_gets_the_page_policy_with_inline_styles_only(dist):
    async with client(dist) as c:
        page = await c.get("/graphql", headers=HTML)
    assert page.status_code == 200 and "GraphiQL" in page.text
    policy = assert_page_policy(page, ["https://js.stripe.com", "https://*.js.stripe.com"])
    # Its editor's libraries insert <style> elements; scripts stay as strict as the app's.
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["font-src"] == ["'self'", "data:"]  # its stylesheet embeds its fonts


async def test_scripts_get_the_page_policy_and_other_files_run_nothing(dist):
    async with client(dist) as c:
        script = await c.get("/assets/app-Ab12.js")
        assert script.status_code == 200
        # A script's own policy is what a worker started from it would run under.
        assert_page_policy(script, ["https://js.stripe.com", "https://*.js.stripe.com"])
        for path in ("/assets/app-Ab12.css", "/favicon.svg", "/config.json"):
            reply = await c.get(path)
            assert reply.status_code == 200, path
            assert_runs_nothing(reply)
            assert "permissions-policy" not in reply.headers, path


async def test_api_answers_and_refusals_run_nothing(dist):
    async with client(dist) as c:
        answers = [
            await c.post("/graphql", json={"query": "{ currentUser { id } }"}),
            await c.get("/api/users/currentuser"),
            # Refused before any route ran: CSRF (a form post), the body limit, a 404.
            await c.post("/graphql", content="query=x", headers={"content-type": "text/plain"}),
            await c.post("/graphql", content=b"{" * 2_000_000, headers=JSON),
            await c.get("/wp-login.php"),
        ]
    assert [a.status_code for a in answers] == [200, 200, 400, 413, 404]
    for answer in answers:
        assert_runs_nothing(answer)


async def test_hsts_only_when_cookies_are_secure(dist):
    async with client(dist, cookie_secure=True) as c:
        for reply in (await c.get("/", headers=HTML), await c.get("/config.json")):
            assert reply.headers["strict-transport-security"] == (
                "max-age=31536000; includeSubDomains"
            )
    async with client(dist, cookie_secure=False) as c:
        for reply in (await c.get("/", headers=HTML), await c.get("/config.json")):
            assert "strict-transport-security" not in reply.headers
            assert reply.headers["x-content-type-options"] == "nosniff"  # the rest still there


async def test_behind_a_tls_proxy_the_socket_source_is_wss(dist):
    async with client(dist) as c:
        # From a trusted proxy (127.0.0.1 by default, as ASGITransport's client is).
        page = await c.get("/", headers={**HTML, "x-forwarded-proto": "https"})
    assert csp(page)["connect-src"][:2] == ["'self'", "wss://shop.example.test:8000"]


@pytest.mark.parametrize(
    "host", ["evil.test; script-src *", "evil.test 'unsafe-inline'", "a,b", "x" * 300]
)
async def test_a_hostile_host_header_adds_nothing_to_the_policy(dist, host):
    async with client(dist) as c:
        page = await c.get("/", headers={**HTML, "host": host})
    policy = csp(page)
    assert policy["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert policy["script-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]


async def test_the_not_built_page_allows_its_own_style_by_hash_and_nothing_else(tmp_path):
    async with client(tmp_path / "never-built") as c:
        for path in ("/", "/graphql"):
            page = await c.get(path, headers=HTML)
            assert page.status_code == 503
            [style] = re.findall(r"<style>(.*?)</style>", page.text, re.S)
            digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
            assert csp(page) == {
                "default-src": ["'none'"],
                "style-src": [f"'sha256-{digest}'"],
                "frame-ancestors": ["'none'"],
            }
            assert page.headers["x-content-type-options"] == "nosniff"


async def test_a_304_leaves_the_stored_policy_alone(dist):
    # A browser merges a 304's headers into the response it stored: a 304 for a script must
    # not replace the script's policy with the one for files that run nothing.
    async with client(dist) as c:
        script = await c.get("/assets/app-Ab12.js")
        again = await c.get(
            "/assets/app-Ab12.js", headers={"if-none-match": script.headers["etag"]}
        )
    assert again.status_code == 304
    assert "content-security-policy" not in again.headers
    assert again.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://js.stripe.com:443/v3/", None),  # Stripe's own, its default port spelled out
        ("HTTP://127.0.0.1:8420/js.stripe.com/v3/", "http://127.0.0.1:8420"),
        ("https://user:secret@stripe.internal.example/v3/", "https://stripe.internal.example"),
    ],
)
def test_the_stripe_source_is_the_normalized_origin_of_stripe_js_url(url, origin):
    sources = StripeSources.of(url)
    if origin is None:
        assert sources.script == ("https://js.stripe.com", "https://*.js.stripe.com")
    else:
        assert sources.script == sources.connect == sources.frame == (origin,)


@pytest.mark.parametrize(
    "url", ["https://stripe.example;script-src */v3/", "https://stripe.example 'unsafe-inline'/"]
)
def test_a_stripe_js_url_that_would_change_the_policy_is_refused(url):
    with pytest.raises(ConfigError, match="STRIPE_JS_URL"):
        GatewaySettings.from_env({"STRIPE_JS_URL": url})  # at start, as any other setting
