"""A whole purchase through the v1 API with a GraphQL client that is not ours: `gql` (the
Python client of the GraphQL Foundation's ecosystem), over its httpx transport, against the
running stack. It fetches the server's schema by introspection and validates every document
against it before sending it, as typed clients do; a document the server's schema refuses
fails here, before any request.

Sign-ups, a ticket listed in a currency, an order placed, the same createOrder sent again with
the same idempotency key (a client retrying a lost answer: the same order, no userErrors,
docs/api.md IDEM-4), a card payment, then the order COMPLETE and its ticket SOLD."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.httpx import HTTPXTransport

pytestmark = pytest.mark.e2e

USER_ERROR = "fragment Problem on UserError { code field message }"
SIGN_UP = gql(
    """
    mutation SignUp($input: SignUpInput!) {
      signUp(input: $input) { token user { id email } userErrors { ...Problem } }
    }
    """
    + USER_ERROR
)
CREATE_TICKET = gql(
    """
    mutation CreateTicket($input: CreateTicketInput!) {
      createTicket(input: $input) {
        ticket { id title price { amount currencyCode } state seller { id } }
        userErrors { ...Problem }
      }
    }
    """
    + USER_ERROR
)
ORDER = """
    fragment OrderShown on Order {
      id status price { amount currencyCode } buyer { id }
      ticket { id state }
      payment { id status amount { amount currencyCode } }
    }
"""
CREATE_ORDER = gql(
    """
    mutation CreateOrder($input: CreateOrderInput!) {
      createOrder(input: $input) { order { ...OrderShown } userErrors { ...Problem } }
    }
    """
    + ORDER
    + USER_ERROR
)
CREATE_PAYMENT = gql(
    """
    mutation CreatePayment($input: CreatePaymentInput!) {
      createPayment(input: $input) {
        payment { id status amount { amount currencyCode } order { id } }
        userErrors { ...Problem }
      }
    }
    """
    + USER_ERROR
)
GET_ORDER = gql("query Order($id: ID!) { order(id: $id) { ...OrderShown } }" + ORDER)


class Caller:
    """One person's gql client: their token on every request, the server's schema fetched once."""

    def __init__(self, url: str, token: str | None = None) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        transport = HTTPXTransport(url=url, headers=headers, timeout=30)
        self.client = Client(transport=transport, fetch_schema_from_transport=True)
        self.session = self.client.connect_sync()

    def run(self, request: GraphQLRequest, **variables) -> dict:
        return self.session.execute(GraphQLRequest(request, variable_values=variables))

    def close(self) -> None:
        self.client.close_sync()


@pytest.fixture
def callers(stack) -> Iterator[list[Caller]]:
    made: list[Caller] = []
    yield made
    for caller in made:
        caller.close()


def succeeded(result: dict, mutation: str) -> dict:
    """The payload of a mutation that must have succeeded (MUT-2: no userErrors, a result)."""
    payload = result[mutation]
    assert payload["userErrors"] == [], payload
    return payload


def test_a_purchase_with_a_third_party_client(stack, callers):
    url = f"{stack.base_url}/graphql"
    anonymous = Caller(url)
    callers.append(anonymous)

    def sign_up() -> dict:
        email = f"gql-{uuid.uuid4().hex[:10]}@example.com"
        result = anonymous.run(SIGN_UP, input={"email": email, "password": "s3cret-pass"})
        payload = succeeded(result, "signUp")
        assert payload["user"]["email"] == email and payload["token"]
        return payload

    seller_account, buyer_account = sign_up(), sign_up()
    seller = Caller(url, seller_account["token"])
    buyer = Caller(url, buyer_account["token"])
    callers += [seller, buyer]
    # The client validated each document against the schema the server itself published.
    assert anonymous.client.schema is not None
    assert "CreateOrderPayload" in anonymous.client.schema.type_map

    listing = {
        "title": "Third-party client, row G",
        "price": {"amount": "42.50", "currencyCode": "GBP"},
        "idempotencyKey": str(uuid.uuid4()),
    }
    ticket = succeeded(seller.run(CREATE_TICKET, input=listing), "createTicket")["ticket"]
    assert ticket["price"] == {"amount": "42.50", "currencyCode": "GBP"}
    assert ticket["state"] == "FOR_SALE"
    assert ticket["seller"] == {"id": seller_account["user"]["id"]}

    # One key for this purchase, made when the buyer pressed Buy (IDEM-2).
    ordering = {"ticketId": ticket["id"], "idempotencyKey": str(uuid.uuid4())}
    deadline = time.monotonic() + 10
    while True:  # the orders service may not have heard of the ticket yet: judged afresh
        payload = buyer.run(CREATE_ORDER, input=ordering)["createOrder"]
        not_yet = [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["input", "ticketId"])
        ]
        if not not_yet or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert payload["userErrors"] == [], payload
    order = payload["order"]
    assert order["status"] == "CREATED" and order["price"] == ticket["price"]
    assert order["buyer"] == {"id": buyer_account["user"]["id"]}
    assert order["ticket"] == {"id": ticket["id"], "state": "HELD"}

    # The same request again (its answer lost, say): the same order, no CONFLICT with itself.
    again = succeeded(buyer.run(CREATE_ORDER, input=ordering), "createOrder")
    assert again["order"]["id"] == order["id"]
    assert again["order"]["status"] == "CREATED"

    paying = {
        "orderId": order["id"],
        "paymentMethod": "pm_card_visa",
        "idempotencyKey": str(uuid.uuid4()),
    }
    payment = succeeded(buyer.run(CREATE_PAYMENT, input=paying), "createPayment")["payment"]
    assert payment["status"] == "SUCCEEDED"
    assert payment["amount"] == {"amount": "42.50", "currencyCode": "GBP"}
    assert payment["order"] == {"id": order["id"]}

    deadline = time.monotonic() + 15
    while True:
        seen = buyer.run(GET_ORDER, id=order["id"])["order"]
        # COMPLETE, then SOLD once the paid order's event has reached tickets (a moment later)
        sold = seen["status"] == "COMPLETE" and seen["ticket"]["state"] == "SOLD"
        if sold or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert seen["status"] == "COMPLETE", seen
    assert seen["ticket"] == {"id": ticket["id"], "state": "SOLD"}
    assert seen["payment"]["id"] == payment["id"] and seen["payment"]["status"] == "SUCCEEDED"
