"""Browsers on other origins: CORS with credentials for CORS_ALLOWED_ORIGINS only, and no request
another site could forge with the user's cookie (gateway/csrf.py). The app is the real one
(`create_app`); no service is reachable and none is needed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from common.jwt import generate_key_pair
from common.settings import ConfigError
from gateway.app import create_app
from gateway.config import GatewaySettings
from gateway.csrf import CSRF_REFUSED
from gateway.origins import origin_allowed

APP_ORIGIN = "https://app.example.com"
FOREIGN = "https://evil.example"
COOKIE = {"cookie": "session=some-token"}
TYPENAME = {"query": "{ __typename }"}


def settings(**overrides) -> GatewaySettings:
    _, public = generate_key_pair()
    return GatewaySettings.from_env(
        {"CORS_ALLOWED_ORIGINS": f" {APP_ORIGIN}/ , http://localhost:3000"},
        jwt_public_key=public,
        **{f"{s}_addr": "127.0.0.1:9" for s in ("auth", "tickets", "orders", "payments")},
        expiration_addr="127.0.0.1:9",
        redis_url="redis://127.0.0.1:9/0",
        ticket_cache_enabled=False,
        graphql_user_limit=0,
        graphql_address_limit=0,
        graphql_ide=True,
        stripe_webhook_secret="whsec_test",
        **overrides,
    )


@pytest.fixture
async def client(tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    # A GraphiQL build of our own (what `make web` writes), whether or not one was built here.
    (tmp_path / "graphiql").mkdir()
    (tmp_path / "graphiql" / "index.html").write_text("<title>GraphiQL</title>")
    app = create_app(settings(web_dist_dir=str(tmp_path)))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway:8000") as c:
        yield c


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": method,
        "access-control-request-headers": "content-type",
    }


def refused(reply: httpx.Response) -> bool:
    if reply.status_code != 400 or reply.headers["content-type"] != "application/json":
        return False
    [error] = reply.json()["errors"]
    assert error["message"].startswith("This request has been blocked as a possible cross-site")
    if reply.url.path == "/graphql":
        return error["extensions"]["code"] == CSRF_REFUSED
    return error["code"] == CSRF_REFUSED and "extensions" not in error  # the REST shape


# --- CORS ---------------------------------------------------------------------------------------


async def test_a_preflight_from_a_foreign_origin_gets_no_allow_header(client):
    for path in ("/graphql", "/api/users/signin"):
        reply = await client.options(path, headers=preflight(FOREIGN))
        assert reply.status_code == 400
        assert "access-control-allow-origin" not in reply.headers


async def test_an_allowed_origin_is_allowed_with_credentials(client):
    reply = await client.options("/graphql", headers=preflight(APP_ORIGIN))
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == APP_ORIGIN
    assert reply.headers["access-control-allow-credentials"] == "true"
    assert "content-type" in reply.headers["access-control-allow-headers"].lower()
    answer = await client.post("/graphql", json=TYPENAME, headers={"origin": APP_ORIGIN, **COOKIE})
    assert answer.json() == {"data": {"__typename": "Query"}}
    assert answer.headers["access-control-allow-origin"] == APP_ORIGIN
    assert answer.headers["access-control-allow-credentials"] == "true"
    foreign = await client.post("/graphql", json=TYPENAME, headers={"origin": FOREIGN})
    assert "access-control-allow-origin" not in foreign.headers


async def test_no_origin_is_allowed_by_default():
    transport = httpx.ASGITransport(app=create_app(settings(cors_allowed_origins=())))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
        reply = await c.options("/graphql", headers=preflight("http://localhost:3000"))
        assert "access-control-allow-origin" not in reply.headers


# --- CSRF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain; charset=utf-8", "multipart/form-data", None],
)
@pytest.mark.parametrize(
    "path", ["/graphql", "/api/users/signout", "/api/users/signin", "/api/deliveries/files"]
)
async def test_a_post_a_form_could_make_is_refused(client, path, content_type):
    headers = {**COOKIE, "origin": FOREIGN}
    if content_type:
        headers["content-type"] = content_type
    reply = await client.post(path, content=b'{"query": "mutation { signout }"}', headers=headers)
    assert refused(reply), reply.text


async def test_an_upload_of_e_tickets_has_its_own_body_limit(client):
    # Past MAX_REQUEST_BODY_BYTES (1 MiB), within DELIVERY_UPLOAD_MAX_BYTES: the route itself
    # answers (here: not signed in), not the gateway's body limit.
    headers = {"content-type": "multipart/form-data; boundary=b", "X-Requested-With": "web"}
    reply = await client.post("/api/deliveries/files", content=b"x" * 2_000_000, headers=headers)
    assert reply.status_code == 401, reply.text
    assert reply.json()["errors"][0]["code"] == "UNAUTHENTICATED"
    elsewhere = await client.post("/graphql", content=b"x" * 2_000_000, headers=headers)
    assert elsewhere.status_code == 413


async def test_a_json_post_with_the_cookie_works(client):
    reply = await client.post("/graphql", json=TYPENAME, headers=COOKIE)
    assert reply.status_code == 200 and reply.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "header", ["X-Apollo-Operation-Name", "Apollo-Require-Preflight", "X-Requested-With"]
)
async def test_a_simple_post_with_a_preflight_header_goes_on(client, header):
    reply = await client.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={**COOKIE, "content-type": "text/plain", header: "x"},
    )
    assert not refused(reply)  # Strawberry's answer: it takes JSON bodies only
    assert reply.text == "Unsupported content type"
    empty = await client.post(
        "/graphql", content=b"{}", headers={**COOKIE, "content-type": "text/plain", header: " "}
    )
    assert refused(empty)


async def test_a_get_query_with_the_cookie_needs_a_preflight_header(client):
    query = {"query": "{ __typename }"}
    assert refused(await client.get("/graphql", params=query, headers=COOKIE))
    ok = await client.get("/graphql", params=query, headers={**COOKIE, "x-requested-with": "app"})
    assert ok.json() == {"data": {"__typename": "Query"}}
    no_cookie = await client.get("/graphql", params=query)  # nothing of the user's to forge
    assert no_cookie.json() == {"data": {"__typename": "Query"}}


async def test_the_graphiql_page_and_current_user_are_still_plain_gets(client):
    page = await client.get("/graphql", headers={"accept": "text/html", **COOKIE})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    # A read with no effect, which another origin cannot read: the seed's clients keep it.
    me = await client.get("/api/users/currentuser", headers={"cookie": "session=made-up"})
    assert me.json() == {"currentUser": None}


async def test_the_stripe_webhook_is_not_guarded(client):
    reply = await client.post(
        "/webhooks/stripe",
        content=b"{}",
        headers={**COOKIE, "content-type": "text/plain", "stripe-signature": "t=1,v1=00"},
    )
    assert reply.json() == {
        "errors": [{"message": "Invalid Stripe signature", "code": "BAD_USER_INPUT"}]
    }


# --- the setting and the origin rule the WebSocket uses -----------------------------------------


def test_allowed_origins_are_normalized_and_checked():
    assert settings().cors_allowed_origins == (APP_ORIGIN, "http://localhost:3000")
    assert settings(cors_allowed_origins=("HTTPS://App.Example.com:443",)).cors_allowed_origins == (
        APP_ORIGIN,
    )
    for bad in ("app.example.com", "https://app.example.com/path", "null", "ftp://x", "*"):
        with pytest.raises(ConfigError, match="CORS_ALLOWED_ORIGINS"):
            settings(cors_allowed_origins=(bad,))


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, "gateway:8000", True),  # not a browser's cross-origin request
        ("http://gateway:8000", "gateway:8000", True),  # the gateway's own
        ("https://gateway", "gateway", True),
        ("https://gateway", "gateway:443", True),
        ("http://localhost:8000", "localhost:8000", True),
        (APP_ORIGIN, "gateway:8000", True),  # listed
        ("https://APP.example.com", "gateway:8000", True),
        (FOREIGN, "gateway:8000", False),
        ("http://gateway:8001", "gateway:8000", False),
        ("https://app.example.com.evil.example", "gateway", False),
        ("null", "gateway:8000", False),
        ("http://gateway:8000", None, False),
    ],
)
def test_origin_allowed(origin, host, allowed):
    assert origin_allowed(origin, host, (APP_ORIGIN,)) is allowed
