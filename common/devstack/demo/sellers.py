"""The demo's sellers at the gateway's public GraphQL API, as any client speaks to it: sign up
(or sign in, when the account exists), read their own listings, create listings with an
idempotency key each. A listing for an event the tickets service has not heard of yet (it learns
the catalogue's events a moment after the import) is tried again for a while, and so is a
request over a rate limit."""

from __future__ import annotations

import time
from typing import Any

import httpx

from common.devstack.demo.plan import PlannedListing

SIGN_UP = """mutation($input: SignUpInput!) {
  signUp(input: $input) { token userErrors { code field message } } }"""
SIGN_IN = """mutation($input: SignInInput!) {
  signIn(input: $input) { token userErrors { code field message } } }"""
MY_LISTINGS = """query($after: String) {
  myListings(first: 50, after: $after) {
    nodes { section row seats price { amount } event { id } }
    pageInfo { hasNextPage endCursor } } }"""
CREATE_LISTING = """mutation($input: CreateListingInput!) {
  createListing(input: $input) { listing { id } userErrors { code field message } } }"""

# How long a listing waits for its event to reach the tickets service.
EVENT_PATIENCE_SECONDS = 60.0
RATE_LIMIT_PAUSE_SECONDS = 2.0

Identity = tuple[str, str | None, tuple[str, ...], str]


class DemoError(RuntimeError):
    """The gateway refused what the demo asked, in a way trying again will not mend."""


class Gateway:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def ask(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        """The operation's `data`; a top-level RATE_LIMITED is waited out, any other error is
        a DemoError."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        while True:
            reply = self.client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            body = reply.json() if reply.content else {}
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
            if "RATE_LIMITED" in codes or reply.status_code == 429:
                time.sleep(RATE_LIMIT_PAUSE_SECONDS)
                continue
            if reply.status_code != 200 or codes:
                raise DemoError(f"the gateway answered {reply.status_code}: {reply.text[:300]}")
            return body["data"]

    def session(self, email: str, password: str) -> tuple[str, bool]:
        """A token of the account, and whether it was made now (else it existed: signed in)."""
        made = self.ask(SIGN_UP, input={"email": email, "password": password})["signUp"]
        if made["token"]:
            return made["token"], True
        if [e["code"] for e in made["userErrors"]] != ["CONFLICT"]:
            raise DemoError(f"signing up {email} was refused: {made['userErrors']}")
        signed = self.ask(SIGN_IN, input={"email": email, "password": password})["signIn"]
        if not signed["token"]:
            raise DemoError(
                f"{email} exists and does not take the demo's password: {signed['userErrors']}"
            )
        return signed["token"], False

    def listed(self, token: str) -> set[tuple[str, Identity]]:
        """The seller's listings, each as (event id, its identity in the plan)."""
        found: set[tuple[str, Identity]] = set()
        after = None
        while True:
            page = self.ask(MY_LISTINGS, token, after=after)["myListings"]
            for node in page["nodes"]:
                if node and node["event"]:
                    identity = (node["section"], node["row"], tuple(node["seats"]))
                    found.add((node["event"]["id"], (*identity, node["price"]["amount"])))
            if not page["pageInfo"]["hasNextPage"]:
                return found
            after = page["pageInfo"]["endCursor"]

    def create_listing(self, token: str, event_id: str, listing: PlannedListing) -> None:
        seats = listing.seats
        money = {"currencyCode": seats.currency_code}
        given = {
            "eventId": event_id,
            "quantity": seats.quantity,
            "price": {**money, "amount": str(seats.price)},
            "faceValue": {**money, "amount": str(seats.face_value)},
            "section": seats.section,
            "row": seats.row,
            "seats": list(seats.seats) or None,
            "splitRule": seats.split_rule,
            "deliveryMethod": seats.delivery_method,
            "idempotencyKey": listing.idempotency_key,
        }
        deadline = time.monotonic() + EVENT_PATIENCE_SECONDS
        while True:
            payload = self.ask(CREATE_LISTING, token, input=given)["createListing"]
            if payload["listing"]:
                return
            errors = payload["userErrors"]
            unknown_event = [(e["code"], (e["field"] or [""])[-1]) for e in errors] == [
                ("NOT_FOUND", "eventId")
            ]
            if not unknown_event or time.monotonic() > deadline:
                raise DemoError(f"listing {listing.idempotency_key} was refused: {errors}")
            time.sleep(0.5)
