"""Events and webhook endpoints: every change the stand-in makes is an Event (`evt_...`), kept for
`GET /v1/events` and delivered to each enabled endpoint signed as Stripe signs it:
`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>" with the endpoint's secret>`.
A delivery that fails (no answer, or not a 2xx) is tried again after a growing delay, a bounded
number of times, by a background task; each attempt is signed afresh."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from stripe_standin.http import invalid, missing, new_id, paged, required

log = logging.getLogger(__name__)

API_VERSION = "2019-11-05"  # the version tests/contract/stripe_contract.json was read at
# The delays before each further attempt at a delivery (seconds): 8 attempts in about a minute
# (Stripe's own schedule spreads its attempts over three days).
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
DELIVERY_TIMEOUT = 10.0
EVERY_EVENT = "*"


def signature(payload: bytes, secret: str, at: int) -> str:
    """The `Stripe-Signature` header of `payload`, signed at unix time `at`."""
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


@dataclass
class Events:
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    retry_delays: tuple[float, ...] = RETRY_DELAYS
    deliveries: set[asyncio.Task] = field(default_factory=set)
    # (event id, endpoint id, HTTP status or None for no answer) per attempt, oldest first
    attempts: list[tuple[str, str, int | None]] = field(default_factory=list)

    # --- webhook endpoints -----------------------------------------------------------------------

    def create_endpoint(self, form: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
        url = required(form, "url")
        if not url.startswith(("http://", "https://")):
            raise invalid("Invalid URL: must be an http(s) URL", "url", code="url_invalid")
        enabled = form.get("enabled_events")
        if not enabled or not isinstance(enabled, list):
            raise invalid(
                "Missing required param: enabled_events.",
                "enabled_events",
                code="parameter_missing",
            )
        endpoint = {
            "id": new_id("we"),
            "object": "webhook_endpoint",
            "url": url,
            "enabled_events": enabled,
            "status": "enabled",
            "secret": secret or f"whsec_{secrets.token_hex(16)}",
            "api_version": form.get("api_version"),
            "application": None,
            "description": form.get("description"),
            "metadata": form.get("metadata") or {},
            "created": int(time.time()),
            "livemode": False,
        }
        self.endpoints[endpoint["id"]] = endpoint
        return endpoint

    def endpoint(self, endpoint_id: str) -> dict[str, Any]:
        if endpoint_id not in self.endpoints:
            raise missing("webhook_endpoint", endpoint_id, "id")
        return self._shown(self.endpoints[endpoint_id])

    @staticmethod
    def _shown(endpoint: dict[str, Any]) -> dict[str, Any]:
        """As Stripe shows an endpoint after its creation: without its secret."""
        return {k: v for k, v in endpoint.items() if k != "secret"}

    def update_endpoint(self, endpoint_id: str, form: dict[str, Any]) -> dict[str, Any]:
        self.endpoint(endpoint_id)
        endpoint = self.endpoints[endpoint_id]
        if "url" in form:
            endpoint["url"] = required(form, "url")
        if form.get("enabled_events"):
            endpoint["enabled_events"] = list(form["enabled_events"])
        if "disabled" in form:
            endpoint["status"] = "disabled" if form["disabled"] == "true" else "enabled"
        if isinstance(form.get("metadata"), dict):
            endpoint["metadata"].update(form["metadata"])
        if "description" in form:
            endpoint["description"] = form["description"]
        return self._shown(endpoint)

    def delete_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        self.endpoint(endpoint_id)
        del self.endpoints[endpoint_id]
        return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}

    def list_endpoints(self, query: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        shown = [self._shown(e) for e in reversed(self.endpoints.values())]
        return paged(shown, query, "webhook_endpoint")

    # --- events ----------------------------------------------------------------------------------

    def emit(
        self, kind: str, obj: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """An event of `kind` about `obj` (a snapshot of it now), delivered to every enabled
        endpoint that wants it."""
        targets = [
            e
            for e in self.endpoints.values()
            if e["status"] == "enabled"
            and (EVERY_EVENT in e["enabled_events"] or kind in e["enabled_events"])
        ]
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {
            "id": new_id("evt"),
            "object": "event",
            "type": kind,
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": data,
            "livemode": False,
            "pending_webhooks": len(targets),
            "request": {"id": None, "idempotency_key": None},
        }
        self.events.append(event)
        for endpoint in targets:
            self._deliver_later(event, endpoint)
        return event

    def event(self, event_id: str) -> dict[str, Any]:
        for event in self.events:
            if event["id"] == event_id:
                return event
        raise missing("event", event_id, "id")

    def list_events(self, query: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        """Newest first; `type` (a `*` wildcard as in `charge.dispute.*`), `types[]`, and
        `created`, `starting_after`, `limit` as every list."""
        entries = list(reversed(self.events))
        kind = query.get("type")
        if isinstance(kind, str) and kind:
            if kind.endswith("*"):
                entries = [e for e in entries if e["type"].startswith(kind[:-1])]
            else:
                entries = [e for e in entries if e["type"] == kind]
        kinds = query.get("types")
        if isinstance(kinds, list) and kinds:
            entries = [e for e in entries if e["type"] in kinds]
        return paged(entries, query, "event")

    # --- delivery --------------------------------------------------------------------------------

    def _deliver_later(self, event: dict[str, Any], endpoint: dict[str, Any]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # used without a server (a unit test): kept, not delivered
            return
        task = loop.create_task(self._deliver(event, endpoint))
        self.deliveries.add(task)
        task.add_done_callback(self.deliveries.discard)

    async def _deliver(self, event: dict[str, Any], endpoint: dict[str, Any]) -> None:
        payload = json.dumps(event).encode()
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT) as client:
            for delay in (0.0, *self.retry_delays):
                if delay:
                    await asyncio.sleep(delay)
                if endpoint["id"] not in self.endpoints:
                    return  # deleted meanwhile
                status = await self._attempt(client, endpoint, payload)
                self.attempts.append((event["id"], endpoint["id"], status))
                if status is not None and 200 <= status < 300:
                    event["pending_webhooks"] = max(0, event["pending_webhooks"] - 1)
                    return
        log.warning(
            "webhook delivery given up",
            extra={"event": event["id"], "url": endpoint["url"]},
        )

    @staticmethod
    async def _attempt(
        client: httpx.AsyncClient, endpoint: dict[str, Any], payload: bytes
    ) -> int | None:
        headers = {
            "content-type": "application/json; charset=utf-8",
            "stripe-signature": signature(payload, endpoint["secret"], int(time.time())),
            "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        try:
            reply = await client.post(endpoint["url"], content=payload, headers=headers)
        except httpx.HTTPError:
            return None
        return reply.status_code
