"""Hypothesis against POST /webhooks/stripe through the real gateway and payments: signed or
not, with a timestamp in or out of Stripe's tolerance, whatever the body's shape, the answer is
below 500 (a 503 tells Stripe to retry, and nothing here is down), and every process is healthy."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from hypothesis import example, given, settings
from hypothesis import strategies as st

from common.devstack.infra import DEV_WEBHOOK_SECRET
from tests.fuzz.strategies import (
    FUZZ,
    any_text,
    encoded,
    header_text,
    json_bodies,
    json_values,
    sent,
)

SETTLING = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.processing",
]

intent_ids = st.one_of(
    st.builds(lambda s: "pi_" + s, st.text("abcdefghijklmnopqrstuvwxyz0123456789", max_size=24)),
    any_text,
    st.builds(lambda n: "pi_" + "x" * n, st.sampled_from([300, 10_000, 600_000])),
    json_values,
)
events = st.fixed_dictionaries(
    {
        "id": st.builds(lambda s: "evt_" + s, st.text("abcdef0123456789", max_size=24)),
        "object": st.just("event"),
        "type": st.sampled_from(SETTLING) | any_text,
        "data": st.one_of(
            st.fixed_dictionaries({"object": st.fixed_dictionaries({"id": intent_ids})}),
            json_values,
        ),
    }
)
payloads = st.one_of(
    st.builds(encoded, events, st.just("escaped")),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    json_bodies,
)
# Seconds from now of the signature's timestamp: Stripe's tolerance is 300 either way.
skews = st.sampled_from([0, 0, 0, -299, -301, 299, 301, -86_400, 10**10])


def signature(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@example(payload=b"null", skew=0, forged=None)  # 500 on main
@example(payload=b"[" * 100_000 + b"]" * 100_000, skew=0, forged=None)  # 500 on main
@settings(FUZZ, max_examples=200)
@given(payload=payloads, skew=skews, forged=st.none() | header_text)
def test_webhooks_never_answer_5xx(client, stack, still_healthy, payload, skew, forged):
    secret = stack.env.get("STRIPE_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET)
    header = forged if forged is not None else signature(payload, secret, int(time.time()) + skew)
    reply = sent(
        client,
        "POST",
        "/webhooks/stripe",
        content=payload,
        headers={"stripe-signature": header, "content-type": "application/json"},
    )
    assert reply.status_code < 500, (payload[:300], header, reply.status_code, reply.text[:300])
