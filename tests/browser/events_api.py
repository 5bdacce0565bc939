"""Events and listings made through the API for the browser tests of the marketplace: an
operator (an admin by `ticketing users grant-admin`) makes the event, sellers list its seats."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.browser.market import email
from tests.support.market import PASSWORD, Api, new_key

CREATE_EVENT = """
mutation($input: CreateEventInput!) {
  createEvent(input: $input) { event { id name } userErrors { code field message } }
}"""
CREATE_LISTING = """
mutation($input: CreateListingInput!) {
  createListing(input: $input) {
    listing { id allowedQuantities }
    userErrors { code field message }
  }
}"""

ORDER = """
mutation($input: CreateOrderInput!) {
  createOrder(input: $input) { order { id } userErrors { code field message } }
}"""


def operator(api: Api, stack, address: str | None = None) -> str:
    """A new user (`address`, or a new one) made an admin by the operators' command; the token
    of their next sign-in."""
    address = address or email("ops")
    api.sign_up(address, PASSWORD)
    ticketing = str(Path(sys.executable).parent / "ticketing")
    done = subprocess.run(
        [ticketing, "users", "grant-admin", address],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return api.sign_in(address, PASSWORD)


def new_event(api: Api, stack, name: str, days: int = 30) -> str:
    """An event at the O2 in London `days` from now (a month by default), at 19:30 London time;
    its id."""
    starts = datetime.now(UTC).replace(hour=19, minute=30, second=0, microsecond=0)
    starts += timedelta(days=days)  # early in January: London is on GMT (UTC), 19:30 GMT
    made = api.data(
        CREATE_EVENT,
        operator(api, stack),
        input={
            "name": name,
            "performers": ["Arctic Monkeys"],
            "venueName": "The O2",
            "city": "London",
            "country": "GB",
            "timeZone": "Europe/London",
            "startsAt": starts.isoformat(),
            "endsAt": (starts + timedelta(hours=3)).isoformat(),
            "category": "CONCERT",
            "idempotencyKey": new_key(),
        },
    )["createEvent"]
    assert made["userErrors"] == [], made
    return made["event"]["id"]


def list_seats(api: Api, event_id: str, seller: str | None = None, **listing) -> dict:
    """A seller (a new one unless given) lists seats of the event through the API (once tickets
    knows the event)."""
    seller = seller or api.user()
    key = new_key()
    created = api.until(
        lambda: api.data(
            CREATE_LISTING, seller, input={"eventId": event_id, "idempotencyKey": key, **listing}
        )["createListing"],
        lambda payload: payload["userErrors"] == [],
    )
    return created["listing"]
