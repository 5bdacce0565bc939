"""Accounts through the running gateway, over REST and GraphQL, as a client sees them."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt as pyjwt
import pytest

from common.clock import FrozenClock
from common.jwt import generate_key_pair
from common.service_identity import GATEWAY
from tests.support import service_tokens
from tests.support.ids import global_id
from tests.support.stack import error_codes, graphql
from tests.support.tokens import issuer_for

pytestmark = pytest.mark.e2e

PAYLOAD = "{ token user { id email } userErrors { code field message } }"
SIGNUP = (
    "mutation($e: String!, $p: String!) { signUp(input: {email: $e, password: $p}) "
    + PAYLOAD
    + " }"
)
SIGNIN = (
    "mutation($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) "
    + PAYLOAD
    + " }"
)
CURRENT = "{ currentUser { id email } }"
CHANGE = (
    "mutation($c: String!, $n: String!) "
    "{ changePassword(input: {currentPassword: $c, newPassword: $n}) " + PAYLOAD + " }"
)
SIGNOUT = "mutation { signOut { user { id email } userErrors { code } } }"


def payload(result: dict, mutation: str) -> dict:
    """The mutation's payload, which must have succeeded (MUT-2)."""
    assert not result.get("errors"), result
    answer = result["data"][mutation]
    assert answer["userErrors"] == [], answer
    return answer


def user_errors(result: dict, mutation: str) -> list:
    """The (code, field) of the mutation's userErrors; its result must be null (MUT-2)."""
    assert not result.get("errors"), result
    answer = result["data"][mutation]
    assert answer["user"] is None and answer.get("token") is None, answer
    return [(e["code"], e["field"]) for e in answer["userErrors"]]


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:8]}@Example.com"


def rest_signup(client: httpx.Client, email: str, password: str = "s3cret-pass") -> httpx.Response:
    return client.post("/api/users/signup", json={"email": email, "password": password})


# --- REST -------------------------------------------------------------------------------------


def test_rest_signup_sets_a_session_cookie_and_returns_the_user(client):
    email = new_email()
    reply = rest_signup(client, email)
    assert reply.status_code == 201
    body = reply.json()
    assert set(body) == {"id", "email"} and body["email"] == email.lower()
    cookie = reply.headers["set-cookie"].lower()
    assert cookie.startswith("session=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie

    current = client.get("/api/users/currentuser").json()["currentUser"]  # the cookie jar
    assert current["id"] == body["id"] and current["email"] == body["email"]
    assert current["exp"] - current["iat"] == 3600


@pytest.mark.parametrize(
    ("payload", "message", "field"),
    [
        ({"email": "not-an-email", "password": "s3cret-pass"}, "Email must be valid", "email"),
        ({"email": "a@example.com", "password": "short"}, None, "password"),
        ({"email": "a@example.com", "password": "x" * 129}, None, "password"),
        ({"password": "s3cret-pass"}, "Email is required", "email"),
        ({"email": "a@example.com"}, "Password is required", "password"),
        ({"email": 5, "password": "s3cret-pass"}, "Email must be a string", "email"),
    ],
)
def test_rest_signup_rejects_invalid_input_naming_the_field(client, payload, message, field):
    reply = client.post("/api/users/signup", json=payload)
    assert reply.status_code == 400
    [error] = reply.json()["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)
    if message:
        assert error["message"] == message
    assert "set-cookie" not in reply.headers


def test_rest_signup_rejects_a_body_that_is_not_json(client):
    reply = client.post(
        "/api/users/signup",
        content=b"email=a",
        headers={"content-type": "text/plain", "x-requested-with": "test"},
    )
    assert reply.status_code == 400
    [error] = reply.json()["errors"]
    assert error["message"].startswith("Request body must be JSON")
    assert error["code"] == "BAD_USER_INPUT"


def test_a_form_post_another_site_could_make_with_the_cookie_is_refused(client):
    rest_signup(client, new_email())
    forged = client.post(
        "/api/users/signout",
        content=b"x=1",
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "origin": "https://evil.example",
        },
    )
    assert forged.status_code == 400
    # The REST shape, as every error of these routes: `code` beside `message`.
    [error] = forged.json()["errors"]
    assert error["code"] == "CSRF_REFUSED" and "extensions" not in error
    # The session is untouched.
    assert client.get("/api/users/currentuser").json()["currentUser"] is not None


def test_rest_signup_with_an_email_in_use_is_refused(client):
    email = new_email()
    assert rest_signup(client, email).status_code == 201
    reply = rest_signup(client, f"  {email.upper()} ")
    assert reply.status_code == 400
    assert reply.json() == {"errors": [{"message": "Email in use", "code": "CONFLICT"}]}


def test_rest_signin_and_the_same_error_for_unknown_email_and_wrong_password(client):
    email = new_email()
    user = rest_signup(client, email).json()
    client.cookies.clear()
    ok = client.post("/api/users/signin", json={"email": email, "password": "s3cret-pass"})
    assert ok.status_code == 200 and ok.json() == user
    assert ok.headers["set-cookie"].startswith("session=")

    wrong = client.post("/api/users/signin", json={"email": email, "password": "wrong-pass"})
    unknown = client.post("/api/users/signin", json={"email": new_email(), "password": "x" * 9})
    for reply in (wrong, unknown):
        assert reply.status_code == 400
        assert reply.json() == {
            "errors": [{"message": "Invalid credentials", "code": "UNAUTHENTICATED"}]
        }


def test_rest_signout_clears_the_cookie_and_revokes_the_token(client):
    rest_signup(client, new_email())
    token = client.cookies["session"]
    reply = client.post("/api/users/signout", headers={"x-requested-with": "XMLHttpRequest"})
    assert reply.status_code == 200 and reply.json() == {}
    assert (
        'session=""' in reply.headers["set-cookie"]
        or "max-age=0" in reply.headers["set-cookie"].lower()
    )
    assert client.get("/api/users/currentuser").json() == {"currentUser": None}
    # The token itself is dead, not just forgotten by this browser.
    replay = client.get("/api/users/currentuser", headers={"authorization": f"Bearer {token}"})
    assert replay.json() == {"currentUser": None}
    assert (
        error_codes(graphql(client, CURRENT.replace("{ currentUser", "{ currentUser"), token)) == []
    )
    result = graphql(client, CHANGE, token, c="s3cret-pass", n="another-pass")
    assert error_codes(result) == [("UNAUTHENTICATED", None)]


def test_rest_currentuser_without_a_session_is_null(client):
    assert client.get("/api/users/currentuser").json() == {"currentUser": None}


# --- GraphQL ----------------------------------------------------------------------------------


def test_graphql_account_lifecycle(client):
    email = new_email()
    up = payload(graphql(client, SIGNUP, e=email, p="s3cret-pass"), "signUp")
    assert up["user"]["email"] == email.lower()
    client.cookies.clear()
    token = up["token"]
    assert graphql(client, CURRENT, token)["data"]["currentUser"] == up["user"]

    signed = payload(graphql(client, SIGNIN, e=email.upper(), p="s3cret-pass"), "signIn")
    assert signed["user"] == up["user"]
    client.cookies.clear()

    changed = graphql(client, CHANGE, signed["token"], c="s3cret-pass", n="n3w-password")
    assert payload(changed, "changePassword")["user"] == up["user"]
    renewed = changed["data"]["changePassword"]["token"]
    assert client.cookies["session"] == renewed  # the browser carries on signed in
    client.cookies.clear()
    # Every session from before the change is over, the one that made it included.
    for ended in (token, signed["token"]):
        assert graphql(client, CURRENT, ended)["data"]["currentUser"] is None
        assert error_codes(graphql(client, SIGNOUT, ended)) == [("UNAUTHENTICATED", None)]
    assert graphql(client, CURRENT, renewed)["data"]["currentUser"] == up["user"]
    old = graphql(client, SIGNIN, e=email, p="s3cret-pass")
    assert user_errors(old, "signIn") == [("INVALID_CREDENTIALS", ["input", "password"])]
    assert old["data"]["signIn"]["userErrors"][0]["message"] == "Invalid credentials"
    later = payload(graphql(client, SIGNIN, e=email, p="n3w-password"), "signIn")["token"]
    client.cookies.clear()

    assert payload(graphql(client, SIGNOUT, renewed), "signOut")["user"] == up["user"]
    assert graphql(client, CURRENT, renewed)["data"]["currentUser"] is None
    assert error_codes(graphql(client, SIGNOUT, renewed)) == [("UNAUTHENTICATED", None)]
    assert graphql(client, CURRENT, later)["data"]["currentUser"] == up["user"]  # other session


def test_graphql_signup_sets_the_cookie_that_later_requests_use(client):
    up = payload(graphql(client, SIGNUP, e=new_email(), p="s3cret-pass"), "signUp")
    assert client.cookies["session"] == up["token"]
    assert graphql(client, CURRENT)["data"]["currentUser"] == up["user"]
    assert payload(graphql(client, SIGNOUT), "signOut")["user"] == up["user"]
    assert "session" not in client.cookies
    assert graphql(client, CURRENT)["data"]["currentUser"] is None


@pytest.mark.parametrize(
    ("email", "password", "expected"),
    [
        ("bad", "s3cret-pass", ("BAD_USER_INPUT", ["input", "email"])),
        ("ok@example.com", "short", ("BAD_USER_INPUT", ["input", "password"])),
        ("ok@example.com", "y" * 129, ("BAD_USER_INPUT", ["input", "password"])),
    ],
)
def test_graphql_signup_validation_errors(client, email, password, expected):
    result = graphql(client, SIGNUP, e=email, p=password)
    assert user_errors(result, "signUp") == [expected]
    assert "session" not in client.cookies


def test_graphql_signup_email_in_use_is_a_conflict(client):
    email = new_email()
    graphql(client, SIGNUP, e=email, p="s3cret-pass")
    result = graphql(client, SIGNUP, e=email, p="s3cret-pass")
    assert user_errors(result, "signUp") == [("CONFLICT", ["input", "email"])]
    assert result["data"]["signUp"]["userErrors"][0]["message"] == "Email in use"


def test_graphql_change_password_errors(client):
    token = payload(graphql(client, SIGNUP, e=new_email(), p="s3cret-pass"), "signUp")["token"]
    client.cookies.clear()
    wrong = graphql(client, CHANGE, token, c="not-my-pass", n="n3w-password")
    assert user_errors(wrong, "changePassword") == [
        ("INVALID_CREDENTIALS", ["input", "currentPassword"])
    ]
    short = graphql(client, CHANGE, token, c="s3cret-pass", n="short")
    assert user_errors(short, "changePassword") == [("BAD_USER_INPUT", ["input", "newPassword"])]
    # Neither changed anything: the session and the password are as they were.
    assert graphql(client, CURRENT, token)["data"]["currentUser"] is not None
    anonymous = graphql(client, CHANGE, None, c="s3cret-pass", n="n3w-password")
    assert error_codes(anonymous) == [("UNAUTHENTICATED", None)]


def _forge(token: str, **changes) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def forged_tokens(stack, token: str) -> dict[str, str]:
    claims = pyjwt.decode(token, options={"verify_signature": False})
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    other_private, _ = generate_key_pair()
    private = Path(stack.run_dir, "jwt", "private.pem").read_text()
    past = FrozenClock(datetime(2020, 1, 1, tzinfo=UTC))
    return {
        "alg none": f"{none_header}.{token.split('.')[1]}.",
        "wrong key": issuer_for(stack.env, private_key=other_private).issue(
            claims["sub"], claims["email"]
        )[0],
        "tampered": _forge(token, email="admin@example.com"),
        "expired": issuer_for(stack.env, clock=past, private_key=private).issue(
            claims["sub"], claims["email"]
        )[0],
        # Signed with this stack's own key, for a deployment in another namespace.
        "another deployment": issuer_for(
            {**stack.env, "TICKETING_NAMESPACE": "elsewhere"}, private_key=private
        ).issue(claims["sub"], claims["email"])[0],
        "garbage": "not.a.token",
    }


def test_forged_tokens_are_refused_by_the_gateway_and_by_the_service(client, stack):
    token = payload(graphql(client, SIGNUP, e=new_email(), p="s3cret-pass"), "signUp")["token"]
    client.cookies.clear()
    revoked = payload(
        graphql(
            client,
            SIGNIN,
            e=pyjwt.decode(token, options={"verify_signature": False})["email"],
            p="s3cret-pass",
        ),
        "signIn",
    )["token"]
    client.cookies.clear()
    graphql(client, SIGNOUT, revoked)
    client.cookies.clear()
    user_id = pyjwt.decode(token, options={"verify_signature": False})["sub"]
    tokens = {**forged_tokens(stack, token), "revoked": revoked}
    for name, bad in tokens.items():
        assert graphql(client, CURRENT, bad)["data"]["currentUser"] is None, name
        result = graphql(client, CHANGE, bad, c="s3cret-pass", n="n3w-password")
        assert error_codes(result) == [("UNAUTHENTICATED", None)], name
        rest = client.get("/api/users/currentuser", headers={"authorization": f"Bearer {bad}"})
        assert rest.json() == {"currentUser": None}, name
        # Straight to the auth service, bypassing the gateway: refused there too.
        grpc_reply = get_user_via_grpcurl(stack, bad, user_id)
        assert grpc_reply.returncode != 0 and "Unauthenticated" in grpc_reply.stderr, name
    # The genuine token still works on both paths.
    # The API names the user by its global id (ID-2); the service by its own.
    assert graphql(client, CURRENT, token)["data"]["currentUser"]["id"] == global_id(
        "User", user_id
    )
    ok = get_user_via_grpcurl(stack, token, user_id)
    assert ok.returncode == 0 and json.loads(ok.stdout)["user"]["id"] == user_id


def test_queries_deeper_than_ten_levels_are_refused(client):
    deep = "{ currentUser " + "{ id " * 11 + "}" * 12
    result = graphql(client, deep)
    assert any("exceeds maximum operation depth" in e["message"] for e in result["errors"])
    assert all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in result["errors"])


def test_introspection_and_graphiql_are_available(client):
    result = graphql(client, "{ __schema { mutationType { fields { name } } } }")
    names = {f["name"] for f in result["data"]["__schema"]["mutationType"]["fields"]}
    assert {"signUp", "signIn", "signOut", "changePassword"} <= names
    assert not {"signup", "signin", "signout"} & names  # renamed in v1 (NAME-3)
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    # The build of web/ (`make web`), whose scripts the gateway serves itself: no CDN.
    assert 'src="/assets/' in page.text and "https://" not in page.text


def test_probes_on_the_admin_port_only(stack, client):
    with httpx.Client(base_url=stack.admin_url, timeout=20) as admin:
        assert admin.get("/healthz").json() == {"status": "ok"}
        ready = admin.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"channels": True, "redis": True}
        deps = admin.get("/healthz/deps")
        assert deps.status_code == 200 and deps.json()["dependencies"]["auth"]["up"] is True
    for path in ("/healthz", "/readyz", "/healthz/deps", "/metrics"):
        assert client.get(path).status_code == 404, path


# --- grpcurl ----------------------------------------------------------------------------------


def grpcurl(stack, *args: str, caller: str | None = GATEWAY) -> subprocess.CompletedProcess:
    """grpcurl to auth, as `caller` (its service token; None: without one)."""
    tool = str(Path(sys.executable).parent / "grpcurl")
    identity = []
    if caller is not None:
        [(key, token)] = service_tokens.metadata(
            service_tokens.of_run(stack.run_dir), "auth", caller
        )
        identity = ["-H", f"{key}: {token}"]
    return subprocess.run(
        [tool, "-plaintext", *identity, *args[:-1], f"127.0.0.1:{stack.port('auth')}", args[-1]],
        capture_output=True,
        text=True,
        timeout=30,
    )


def get_user_via_grpcurl(
    stack, token: str, user_id: str, caller: str | None = GATEWAY
) -> subprocess.CompletedProcess:
    return grpcurl(
        stack,
        *("-H", f"authorization: Bearer {token}", "-d", json.dumps({"id": user_id})),
        "ticketing.auth.v1.AuthService/GetUser",
        caller=caller,
    )


def test_grpcurl_lists_auth_health_and_reflection(stack):
    tool = str(Path(sys.executable).parent / "grpcurl")
    listing = subprocess.run(
        [tool, "-plaintext", f"localhost:{stack.port('auth')}", "list"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    assert {
        "ticketing.auth.v1.AuthService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= set(listing)


def test_grpcurl_real_call(stack):
    email = new_email()
    reply = grpcurl(
        stack,
        "-d",
        json.dumps({"email": email, "password": "s3cret-pass"}),
        "ticketing.auth.v1.AuthService/SignUp",
    )
    assert reply.returncode == 0, reply.stderr
    body = json.loads(reply.stdout)
    assert body["user"]["email"] == email.lower() and body["token"].count(".") == 2


def test_a_direct_call_needs_a_callers_identity_besides_the_users_token(client, stack):
    """The user's genuine token, straight to auth: without a service token, or with one of a
    process auth does not admit (orders), it is refused; as the gateway it is answered."""
    token = payload(graphql(client, SIGNUP, e=new_email(), p="s3cret-pass"), "signUp")["token"]
    client.cookies.clear()
    user_id = pyjwt.decode(token, options={"verify_signature": False})["sub"]
    anonymous = get_user_via_grpcurl(stack, token, user_id, caller=None)
    assert anonymous.returncode != 0 and "Code: Unauthenticated" in anonymous.stderr
    assert "A service token is required" in anonymous.stderr
    as_orders = get_user_via_grpcurl(stack, token, user_id, caller="orders")
    assert as_orders.returncode != 0 and "Code: PermissionDenied" in as_orders.stderr
    ok = get_user_via_grpcurl(stack, token, user_id)
    assert ok.returncode == 0 and json.loads(ok.stdout)["user"]["id"] == user_id
