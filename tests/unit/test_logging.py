"""The JSON log line: the trace it belongs to, the fields bound to the work, and no secret."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from decimal import Decimal

from opentelemetry.sdk.trace import TracerProvider

from common.logging import REDACTED, JsonFormatter, bind_context, unbind_context

JWT = (
    "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjMiLCJlbWFpbCI6ImFAZXhhbXBsZS5jb20ifQ."
    "c2lnbmF0dXJlLWJ5dGVzLWhlcmUtYW5kLXRoZXJl"
)


def line(message: str = "hello", exc_info=None, **extra) -> dict:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, None, exc_info)
    record.__dict__.update(extra)
    return json.loads(JsonFormatter("orders").format(record))


def test_a_line_in_a_span_carries_its_trace_and_span_ids():
    tracer = TracerProvider().get_tracer("t")  # sampled or not, the ids are what counts
    with tracer.start_as_current_span("CreateOrder") as span:
        logged = line()
    ids = span.get_span_context()
    assert logged["trace_id"] == f"{ids.trace_id:032x}"
    assert logged["span_id"] == f"{ids.span_id:016x}"
    assert "trace_id" not in line()  # outside any span: none


def test_fields_bound_to_the_work_are_on_every_line_until_unbound():
    token = bind_context(request_id="r-1")
    try:
        assert line()["request_id"] == "r-1"
        assert line(request_id="own")["request_id"] == "own"  # a line's own field wins
    finally:
        unbind_context(token)
    assert "request_id" not in line()


def test_secrets_are_redacted_wherever_they_appear():
    leaks = {
        "a JWT": f"token was {JWT}",
        "a bearer header": "authorization: Bearer abcdefgh12345678",
        "a Stripe secret key": "Invalid API Key provided: sk_test_standin",
        "a live key": "key sk_live_51HxYzAbCdEf",
        "a webhook secret": "secret whsec_ticketing_local_development",
        "a client secret": "pi_3Nabc123_secret_XyZ987",
    }
    for what, message in leaks.items():
        logged = json.dumps(line(message))
        assert REDACTED in logged, what
        for secret in ("eyJ", "abcdefgh12345678", "sk_", "whsec_", "_secret_"):
            assert secret not in logged, what


def test_fields_named_like_secrets_are_redacted_whatever_their_value():
    logged = line(password="correct-horse", new_password="x", session_cookie="c", api_key="k")
    for name in ("password", "new_password", "session_cookie", "api_key"):
        assert logged[name] == REDACTED
    assert line(order_id="o-1", keys=["order.created"])["order_id"] == "o-1"


def test_a_traceback_is_redacted_too():
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        logged = line("failed", exc_info=sys.exc_info())
    assert "ValueError" in logged["exc"] and JWT not in logged["exc"]
    assert REDACTED in logged["exc"]


def test_each_line_has_its_own_time_to_the_millisecond_across_seconds():
    formatter = JsonFormatter("catalogue")
    # Within a second, the next one, a second boundary rounded up, another day.
    moments = (1796677333.0, 1796677333.8265, 1796677334.001, 1796677333.9999996, 1796763733.25)
    for created in moments:
        record = logging.LogRecord("t", logging.INFO, __file__, 1, "rpc", None, None)
        record.created = created
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert json.loads(formatter.format(record))["ts"] == expected


def test_a_value_json_cannot_hold_is_written_as_its_text():
    assert line(amount=Decimal("12.50"), when=datetime(2027, 1, 1, tzinfo=UTC))["amount"] == "12.50"
