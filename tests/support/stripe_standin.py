"""The Stripe stand-in (`stripe_standin/`) started as a developer starts it, an SDK client pointed
at it as the payments service points its own, and the contract its answers are checked against
(tests/contract/stripe_contract.json, from Stripe's OpenAPI description)."""

from __future__ import annotations

import contextlib
import http.server
import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import stripe

from tests.support.servers import free_port, serving

CONTRACT = json.loads(
    (Path(__file__).resolve().parents[1] / "contract" / "stripe_contract.json").read_text()
)
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


@contextlib.contextmanager
def running(*options: str) -> Iterator[str]:
    """`python -m stripe_standin [options]` on a free port; yields its base URL."""
    port = free_port()
    argv = [sys.executable, "-m", "stripe_standin", "--port", str(port), *options]
    with serving(argv, port) as url:
        yield url


class Receiver:
    """A webhook receiver on a free port of 127.0.0.1: keeps each delivery (its body and
    `Stripe-Signature`), and answers 500 to the first `failures` of them."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.deliveries: list[tuple[bytes, str]] = []
        self.answered: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = 500 if len(receiver.answered) < receiver.failures else 200
                receiver.deliveries.append((body, self.headers.get("stripe-signature", "")))
                receiver.answered.append(status)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self, secret: str, timeout: float = 10.0, count: int = 1) -> list[Any]:
        """The events delivered (at least `count`, waited for), each checked by the SDK's
        `stripe.Webhook.construct_event` against `secret`."""
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return [
            stripe.Webhook.construct_event(body, signature, secret)
            for body, signature in list(self.deliveries)
        ]


def client(api_base: str, key: str = "sk_test_standin") -> stripe.StripeClient:
    """As `svc_payments.adapters.stripe_gateway` configures the SDK (synchronous here)."""
    return stripe.StripeClient(
        key,
        base_addresses={"api": api_base, "connect": api_base},
        http_client=stripe.HTTPXClient(timeout=10, allow_sync_methods=True),
        max_network_retries=0,
    )


def answer(stripe_object: Any) -> dict[str, Any]:
    """The JSON the stand-in sent for an SDK object, as it came over the wire."""
    return json.loads(stripe_object.last_response.body)


def _fits(value: Any, types: list[str]) -> bool:
    for name in types:
        if name in ("integer", "number") and isinstance(value, bool):
            continue
        if isinstance(value, JSON_TYPES[name]):
            return True
    return False


def violations(kind: str, body: dict[str, Any]) -> list[str]:
    """Every way `body` departs from the contract for a `kind` object, each naming the pointer
    of the expectation it breaks."""
    found = []
    for path, expected in CONTRACT["objects"][kind]["fields"].items():
        pointer = expected["pointer"]
        value: Any = body
        present = True
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                present = False
                break
            value = value[part]
        if not present:
            if expected["required"] or expected["always_sent"]:
                found.append(f"{kind}.{path}: missing, expected at {pointer}")
            continue
        if value is None:
            if not expected["nullable"]:
                found.append(f"{kind}.{path}: null, not nullable at {pointer}")
            continue
        if not _fits(value, expected["types"]):
            found.append(
                f"{kind}.{path}: {value!r} is not {' or '.join(expected['types'])} at {pointer}"
            )
        elif "enum" in expected and value not in expected["enum"]:
            found.append(f"{kind}.{path}: {value!r} is not one of {expected['enum']} at {pointer}")
    return found
