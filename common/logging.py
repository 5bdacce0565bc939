"""Structured logging: one JSON object per line on stderr, with the service name on every line,
the trace and span ids of the work it belongs to (common/tracing.py), and nothing secret.

Secrets are kept out where they are handled (nothing logs a password, a token, a cookie or a
Stripe key); as a second line of defence every line is scrubbed before it is written: values of
fields named like secrets, and anything shaped like a JWT, a bearer token or a Stripe key,
webhook secret or client secret become `[REDACTED]`.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

REDACTED = "[REDACTED]"

# Shapes of secrets, wherever they turn up in a line (a message, an error, a traceback).
_SECRET_SHAPES = re.compile(
    r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"  # a JWT (header `{"...`)
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}"  # an Authorization header's credentials
    r"|\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9_]+"  # Stripe API keys
    r"|\bwhsec_[A-Za-z0-9_]+"  # a Stripe webhook signing secret
    r"|\b(?:pi|seti)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"  # a PaymentIntent's client secret
)
# Fields whose value is a secret whatever it looks like.
_SECRET_FIELD = re.compile(r"pass(word)?|secret|token|authorization|cookie|api_?key", re.I)


@functools.lru_cache(maxsize=1024)
def _secret_field(name: str) -> bool:
    return _SECRET_FIELD.search(name) is not None


# Fields every line logged in the current context carries (the gateway's request id).
_context_fields: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "log_context_fields", default=None
)


def bind_context(**fields: Any) -> contextvars.Token:
    """Adds `fields` to every line logged in this context (a task and what it starts) until
    `unbind_context(token)`."""
    return _context_fields.set({**(_context_fields.get() or {}), **fields})


def unbind_context(token: contextvars.Token) -> None:
    _context_fields.reset(token)


def redact(text: str) -> str:
    # What each shape contains: a line with none of it (most) is not searched (5 µs a line).
    lowered = text.lower()
    if (
        "eyj" in lowered
        or "bearer" in lowered
        or "k_" in lowered  # sk_, rk_, pk_
        or "whsec_" in lowered
        or "_secret_" in lowered
    ):
        return _SECRET_SHAPES.sub(REDACTED, text)
    return text


# One encoder for every line: json.dumps given `default` builds a new one each time.
_ENCODER = json.JSONEncoder(default=str)


class JsonFormatter(logging.Formatter):
    """Every gRPC call served writes a line (common/grpc_server.py): what each line costs is
    paid per call, so the time's date part is made once a second and one encoder is kept."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self._second: tuple[int, str] = (-1, "")  # a second and its "YYYY-MM-DDTHH:MM:SS"

    def timestamp(self, created: float) -> str:
        """`created` in UTC to the millisecond: 2026-12-07T21:02:13.826+00:00."""
        second = int(created)
        micros = round((created - second) * 1_000_000)  # as datetime.fromtimestamp rounds
        if micros >= 1_000_000:
            second, micros = second + 1, micros - 1_000_000
        kept, text = self._second
        if second != kept:
            text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (second, text)
        return f"{text}.{micros // 1000:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": self.timestamp(record.created),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            line["trace_id"] = format(span.trace_id, "032x")
            line["span_id"] = format(span.span_id, "016x")
        bound = _context_fields.get()
        if bound:
            line.update(bound)
        for key, value in vars(record).items():
            if key not in _RESERVED:
                line[key] = REDACTED if _secret_field(key) else value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return redact(_ENCODER.encode(line))


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries that narrate every connection step at INFO.
    for noisy in ("pika", "pymongo", "httpx", "stripe", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
