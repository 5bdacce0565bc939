"""A buyer's and a seller's moves through the GraphQL API, for end-to-end tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.stack import error_codes, graphql
from tests.support.waiting import until

TICKET_FIELDS = "id title price userId version orderId reserved"
PAYMENT_FIELDS = "id orderId stripeId amount status clientSecret"
ORDER_FIELDS = (
    f"id status cancelReason expiresAt userId version ticket {{ {TICKET_FIELDS} }} "
    f"payment {{ {PAYMENT_FIELDS} }}"
)


class Api:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def ask(self, query: str, token: str | None = None, **variables: Any) -> dict:
        self.client.cookies.clear()  # each call speaks for exactly the token it is given
        return graphql(self.client, query, token, **variables)

    def data(self, query: str, token: str | None = None, **variables: Any) -> dict:
        result = self.ask(query, token, **variables)
        assert not result.get("errors"), result
        return result["data"]

    def codes(self, query: str, token: str | None = None, **variables: Any) -> list:
        return error_codes(self.ask(query, token, **variables))

    def user(self) -> str:
        email = f"u{uuid.uuid4().hex[:10]}@example.com"
        query = 'mutation($e: String!) { signup(email: $e, password: "s3cret-pass") { token } }'
        return self.data(query, e=email)["signup"]["token"]

    def sell(self, token: str, title: str = "Concert", price: str = "20") -> dict:
        query = (
            "mutation($t: String!, $p: Decimal!) "
            f"{{ createTicket(title: $t, price: $p) {{ {TICKET_FIELDS} }} }}"
        )
        return self.data(query, token, t=title, p=price)["createTicket"]

    def order(self, token: str, ticket_id: str) -> dict:
        """Orders the ticket; waits out the moment before the orders service has heard of it."""
        query = f"mutation($id: ID!) {{ createOrder(ticketId: $id) {{ {ORDER_FIELDS} }} }}"
        deadline = time.monotonic() + 10
        while True:
            result = self.ask(query, token, id=ticket_id)
            if not result.get("errors"):
                return result["data"]["createOrder"]
            if error_codes(result) != [("NOT_FOUND", "ticketId")] or time.monotonic() > deadline:
                raise AssertionError(result)
            time.sleep(0.05)

    def pay(self, token: str, order_id: str, method: str = "pm_card_visa") -> dict:
        query = (
            "mutation($o: ID!, $m: String!) "
            f"{{ createPayment(orderId: $o, paymentMethod: $m) {{ {PAYMENT_FIELDS} }} }}"
        )
        return self.ask(query, token, o=order_id, m=method)

    def get_order(self, token: str, order_id: str) -> dict:
        query = f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
        return self.data(query, token, id=order_id)["order"]

    def get_ticket(self, ticket_id: str) -> dict:
        query = f"query($id: ID!) {{ ticket(id: $id) {{ {TICKET_FIELDS} }} }}"
        return self.data(query, id=ticket_id)["ticket"]

    def until(
        self, read: Callable[[], Any], predicate: Callable[[Any], bool], timeout: float = 15
    ) -> Any:
        return until(read, predicate, timeout)
