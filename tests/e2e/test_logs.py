"""What the processes log during a whole run, read from their output: an access line per
request, trace ids shared across processes, no secret the run used, anywhere, and no ERROR line
or traceback in any process, though hostile clients joined the run (issue 18: what a client sends
is answered, and logged at INFO/WARNING at most).

A stack of its own (`ticketing run`, every process at DEBUG) takes accounts through sign-up,
sign-in, a wrong password, a password change and sign-out, sells a ticket, orders it and pays
with a card that needs 3-D Secure, which Stripe's signed webhook settles; a forged webhook is
refused. Then every line every process wrote is searched for the passwords, the tokens (which
are also the cookies' values), the Stripe secret key, the webhook secret, the PaymentIntent's
client secret, the card number and the payment method's id."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support import servers
from tests.support.hostile_clients import (
    error_lines,
    hostile_frames,
    hostile_handshakes,
    hostile_requests,
)
from tests.support.market import Api, intent_id
from tests.support.stack import RunningStack, start_stack

pytestmark = pytest.mark.e2e

CARD_NEEDING_3DS = "4000002760003184"
CONNECTIONS_PER_ADDRESS = 3  # the hostile clients go over it
MAX_REQUEST_BYTES = 1_048_576  # the gateway's default for bodies (MAX_REQUEST_BODY_BYTES)
MAX_MESSAGE_BYTES = 65_536  # and for WebSocket messages (SUBSCRIPTION_MAX_MESSAGE_BYTES)
SIGNIN = (
    "mutation($e: String!, $p: String!) "
    "{ signIn(input: {email: $e, password: $p}) { token userErrors { code } } }"
)
SIGNUP = (
    "mutation($e: String!, $p: String!) "
    "{ signUp(input: {email: $e, password: $p}) { token userErrors { code } } }"
)
CHANGE = (
    "mutation($c: String!, $n: String!) "
    "{ changePassword(input: {currentPassword: $c, newPassword: $n}) "
    "{ token userErrors { code } } }"
)


@pytest.fixture(scope="module")
def noisy_stack(tmp_path_factory, amqp_url, redis_url) -> Iterator[RunningStack]:
    webhook_secret = f"whsec_{secrets.token_hex(16)}"
    running = start_stack(
        tmp_path_factory.mktemp("logs"),
        extra_env={
            "LOG_LEVEL": "DEBUG",
            "STRIPE_WEBHOOK_SECRET": webhook_secret,
            "SUBSCRIPTION_CONNECTIONS_PER_ADDRESS": str(CONNECTIONS_PER_ADDRESS),
        },
    )
    yield running
    running.stop()
    servers.remove_namespace(running.namespace, amqp_url, redis_url, "")


def password() -> str:
    return f"pw-{secrets.token_urlsafe(12)}"


def test_a_whole_run_logs_its_requests_and_none_of_its_secrets(noisy_stack: RunningStack):
    stack = noisy_stack
    used: dict[str, str] = {}  # what must not be logged -> what it is
    stripe_base = stack.setting("STRIPE_API_BASE")
    stripe_key = "sk_test_standin"  # what `ticketing run` gives payments for the stand-in
    used[stripe_key] = "the Stripe secret key"
    used[stack.env["STRIPE_WEBHOOK_SECRET"]] = "the webhook secret"

    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        api = Api(client)
        # An account over REST: sign-up, sign-in, a wrong password, sign-out.
        email, first = f"b{uuid.uuid4().hex[:8]}@example.com", password()
        used[first] = "a password"
        reply = client.post("/api/users/signup", json={"email": email, "password": first})
        assert reply.status_code == 201
        used[client.cookies["session"]] = "a session cookie"
        wrong = password()
        used[wrong] = "a wrong password"
        reply = client.post("/api/users/signin", json={"email": email, "password": wrong})
        assert reply.status_code == 400
        reply = client.post("/api/users/signin", json={"email": email, "password": first})
        assert reply.status_code == 200
        used[client.cookies["session"]] = "a session cookie"
        # Over GraphQL: the password changed, then signed in with the new one.
        token = api.data(SIGNIN, e=email, p=first)["signIn"]["token"]
        used[token] = "a token"
        second = password()
        used[second] = "a new password"
        renewed = api.data(CHANGE, token, c=first, n=second)["changePassword"]["token"]
        used[renewed] = "a token"
        buyer = api.data(SIGNIN, e=email, p=second)["signIn"]["token"]
        used[buyer] = "a token"
        # A seller lists a ticket; the buyer orders it and pays with a card that needs 3DS.
        seller_password = password()
        used[seller_password] = "a password"
        seller = api.data(SIGNUP, e=f"s{uuid.uuid4().hex[:8]}@example.com", p=seller_password)
        used[seller["signUp"]["token"]] = "a token"
        ticket = api.sell(seller["signUp"]["token"], price="42")
        order = api.order(buyer, ticket["id"])
        key = {"authorization": f"Bearer {stripe_key}"}
        method = httpx.post(
            f"{stripe_base}/v1/payment_methods",
            headers=key,
            data={
                "type": "card",
                "card[number]": CARD_NEEDING_3DS,
                "card[exp_month]": "12",
                "card[exp_year]": "2030",
                "card[cvc]": "123",
            },
        ).json()
        used[CARD_NEEDING_3DS] = "a card number"
        used[method["id"]] = "a payment method id"
        payment = api.pay(buyer, order["id"], method["id"])
        used[payment["clientSecret"]] = "a client secret"
        httpx.post(
            f"{stripe_base}/_standin/payment_intents/{intent_id(payment)}/authenticate",
            data={"client_secret": payment["clientSecret"], "success": "true"},
        ).raise_for_status()
        api.until(lambda: api.get_order(buyer, order["id"]), lambda o: o["status"] == "COMPLETE")
        forged = client.post(
            "/webhooks/stripe",
            content=b'{"type": "payment_intent.succeeded"}',
            headers={"stripe-signature": f"t=1,v1={secrets.token_hex(32)}"},
        )
        assert forged.status_code == 400
        client.cookies.set("session", buyer)
        signout = client.post("/api/users/signout", headers={"x-requested-with": "test"})
        assert signout.status_code == 200

    # Hostile clients, each answered (a 4xx or a close code): none of them may cost an ERROR.
    hostile_handshakes(stack.base_url, CONNECTIONS_PER_ADDRESS)
    hostile_frames(stack.base_url, MAX_MESSAGE_BYTES)
    hostile_requests(stack.base_url, MAX_REQUEST_BYTES)

    stack.stop()  # every process has written all it will
    output = stack.output()
    leaked = {what for secret, what in used.items() if secret in output}
    assert not leaked, f"logged: {sorted(leaked)}"

    # It is the run's log indeed, and it says what happened: an access line per request, with
    # the user, and the trace of the payment crossing processes.
    lines = [json.loads(m) for m in re.findall(r"^\w+ \| (\{.*\})$", output, re.M)]
    access = [line for line in lines if line.get("logger") == "gateway.access"]
    paying = [line for line in access if line.get("fields") == ["createPayment"]]
    assert len(paying) == 1 and paying[0]["status"] == 200 and paying[0]["user_id"]
    assert paying[0]["request_id"] and paying[0]["duration_ms"] > 0
    services_in_trace = {
        line["service"] for line in lines if line.get("trace_id") == paying[0]["trace_id"]
    }
    assert {"gateway", "payments"} <= services_in_trace, services_in_trace

    # The whole run, hostile clients included, logged no ERROR and no traceback in any process.
    process_lines = re.findall(r"^\w+ \| (.*)$", output, re.M)
    assert process_lines and error_lines(process_lines) == []
