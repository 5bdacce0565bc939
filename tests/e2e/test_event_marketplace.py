"""Issue 20 end to end, through the gateway of a running stack: an operator adds an event, a
seller lists four seats of it that never leave a single one, the event is found by a prefix
search, a buyer orders two, the split rule refuses a third that would leave one, and the seller
sees and withdraws what is left."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_analytics import operator
from tests.support.market import Api

pytestmark = pytest.mark.e2e

CREATE_EVENT = """
mutation($input: CreateEventInput!) {
  createEvent(input: $input) { event { id name } userErrors { code field message } }
}"""
CREATE_LISTING = """
mutation($input: CreateListingInput!) {
  createListing(input: $input) {
    listing { id quantity available section row seats allowedQuantities state version
              price { amount currencyCode } faceValue { amount } splitRule deliveryMethod
              event { id name } }
    userErrors { code field message }
  }
}"""
EVENT_LISTINGS = """
query($id: ID!) {
  event(id: $id) {
    name ticketCount
    listings(first: 10) { nodes { id available allowedQuantities price { amount } } }
  }
}"""
SEARCH = """
query($q: String!) {
  events(query: $q, first: 5) { totalCount nodes { id name } facets { cities { value count } } }
}"""
ORDER = """
mutation($input: CreateOrderInput!) {
  createOrder(input: $input) {
    order { id quantity seats total { amount currencyCode } listing { id available } }
    userErrors { code field message }
  }
}"""
MY_LISTINGS = "{ myListings(first: 10) { nodes { id quantity available state version } } }"
WITHDRAW = """
mutation($input: WithdrawListingInput!) {
  withdrawListing(input: $input) { listing { id available state } userErrors { code field } }
}"""


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def new_event(api: Api, admin: str, name: str) -> dict:
    starts = datetime.now(UTC) + timedelta(days=30)
    event = {
        "name": name,
        "performers": ["Arctic Monkeys"],
        "venueName": "Hallenstadion",
        "city": "Zürich",
        "country": "CH",
        "timeZone": "Europe/Zurich",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=3)).isoformat(),
        "category": "CONCERT",
        "idempotencyKey": uuid.uuid4().hex,
    }
    made = api.data(CREATE_EVENT, admin, input=event)["createEvent"]
    assert made["userErrors"] == [], made
    return made["event"]


def test_list_find_order_two_and_withdraw_the_rest(api, stack):
    admin = operator(api, stack)
    name = f"Arctic Monkeys {uuid.uuid4().hex[:6]}"
    event = new_event(api, admin, name)
    seller, buyer = api.user(), api.user()

    listing_input = {
        "eventId": event["id"],
        "quantity": 4,
        "price": {"amount": "80", "currencyCode": "EUR"},
        "faceValue": {"amount": "65", "currencyCode": "EUR"},
        "section": "A2",
        "row": "7",
        "seats": ["11", "12", "13", "14"],
        "splitRule": "NO_SINGLE",
        "deliveryMethod": "MOBILE_TRANSFER",
        "idempotencyKey": uuid.uuid4().hex,
    }
    # The event's start and status reach tickets by the catalogue's events: a moment after.
    created = api.until(
        lambda: api.data(CREATE_LISTING, seller, input=listing_input)["createListing"],
        lambda payload: payload["userErrors"] == [],
    )
    listing = created["listing"]
    assert (listing["quantity"], listing["available"], listing["seats"]) == (
        4,
        4,
        ["11", "12", "13", "14"],
    )
    assert listing["allowedQuantities"] == [1, 2, 4]  # never leave a single seat
    assert listing["event"] == {"id": event["id"], "name": name}

    # Found by a prefix of each word, accents folded, once the catalogue has its summary.
    found = api.until(
        lambda: api.data(SEARCH, q="arct monk zur")["events"],
        lambda result: event["id"] in [e["id"] for e in result["nodes"]],
    )
    assert {"value": "Zürich", "count": found["totalCount"]} in found["facets"]["cities"]
    shown = api.until(
        lambda: api.data(EVENT_LISTINGS, id=event["id"])["event"],
        lambda e: e["ticketCount"] == 4,
    )
    assert [n["id"] for n in shown["listings"]["nodes"]] == [listing["id"]]

    order_input = {"listingId": listing["id"], "quantity": 2, "idempotencyKey": uuid.uuid4().hex}
    placed = api.data(ORDER, buyer, input=order_input)["createOrder"]
    assert placed["userErrors"] == [], placed
    order = placed["order"]
    assert (order["quantity"], order["seats"], order["total"]) == (
        2,
        ["11", "12"],
        {"amount": "160.00", "currencyCode": "EUR"},
    )
    assert order["listing"] == {"id": listing["id"], "available": 2}

    # One of the two left would leave a single seat: refused on the quantity, nothing placed.
    third = {"listingId": listing["id"], "quantity": 1, "idempotencyKey": uuid.uuid4().hex}
    refused = api.data(ORDER, api.user(), input=third)["createOrder"]
    assert refused["order"] is None
    assert [(e["code"], e["field"][-1]) for e in refused["userErrors"]] == [
        ("CONFLICT", "quantity")
    ]

    mine = api.data(MY_LISTINGS, seller)["myListings"]["nodes"]
    [own] = [n for n in mine if n["id"] == listing["id"]]
    assert (own["available"], own["state"]) == (2, "FOR_SALE")
    withdrawn = api.data(
        WITHDRAW, seller, input={"id": listing["id"], "expectedVersion": own["version"]}
    )["withdrawListing"]
    assert withdrawn["userErrors"] == [], withdrawn
    assert (withdrawn["listing"]["available"], withdrawn["listing"]["state"]) == (0, "HELD")
    gone = api.until(
        lambda: api.data(EVENT_LISTINGS, id=event["id"])["event"],
        lambda e: e["listings"]["nodes"] == [],
    )
    assert gone["name"] == name
