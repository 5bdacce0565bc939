"""A buyer's and a seller's moves through the GraphQL API (v1, docs/api.md), for end-to-end tests.

Mutations take one `input` and answer a payload with `userErrors` (MUT-1, MUT-2): `succeed`
asserts `userErrors == []` and a result, `refusal` asserts the result is null and returns the
userErrors as `(code, field)` pairs, `field` the path from the argument (`["input", "ticketId"]`).
Top-level errors (UNAUTHENTICATED, RATE_LIMITED, a query's NOT_FOUND...) are `codes`."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.stack import error_codes, graphql
from tests.support.waiting import until

PASSWORD = "s3cret-pass"
MONEY = "amount currencyCode"
TICKET_FIELDS = f"id title price {{ {MONEY} }} state seller {{ id }} version createdAt"
PAYMENT_FIELDS = f"id status amount {{ {MONEY} }} clientSecret createdAt order {{ id }}"
ORDER_FIELDS = (
    f"id status cancelReason price {{ {MONEY} }} expiresAt createdAt version buyer {{ id }} "
    f"ticket {{ {TICKET_FIELDS} }} payment {{ {PAYMENT_FIELDS} }}"
)
USER_ERRORS = "userErrors { code field message }"
# The result field of each mutation's payload (beside its userErrors).
RESULTS = {
    "signUp": "user",
    "signIn": "user",
    "signOut": "user",
    "changePassword": "user",
    "createTicket": "ticket",
    "updateTicket": "ticket",
    "withdrawTicket": "ticket",
    "createOrder": "order",
    "cancelOrder": "order",
    "createPayment": "payment",
}


def new_key() -> str:
    """An idempotency key as a client makes one (IDEM-2: a random UUID v4)."""
    return str(uuid.uuid4())


def money(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currencyCode": currency}


def mutation(name: str, selection: str) -> str:
    """`name(input: $input) { selection userErrors }` as a document (signOut takes no input)."""
    if name == "signOut":
        return f"mutation {{ signOut {{ {selection} {USER_ERRORS} }} }}"
    kind = name[0].upper() + name[1:] + "Input"
    return f"mutation($input: {kind}!) {{ {name}(input: $input) {{ {selection} {USER_ERRORS} }} }}"


def user_errors(payload: dict) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def intent_id(payment: dict) -> str:
    """The Stripe PaymentIntent a payment's client secret belongs to (`pi_..._secret_...`): what
    Stripe.js would confirm, and the stand-in's 3-D Secure test endpoint needs."""
    return payment["clientSecret"].split("_secret_")[0]


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
        """The top-level errors' (code, extensions.field)."""
        return error_codes(self.ask(query, token, **variables))

    # --- mutations -----------------------------------------------------------------------------

    def mutate(self, name: str, token: str | None, selection: str, **input: Any) -> dict:
        """The payload of `name` (no top-level error allowed)."""
        variables = {} if name == "signOut" else {"input": input}
        result = self.ask(mutation(name, selection), token, **variables)
        assert not result.get("errors"), result
        return result["data"][name]

    def succeed(self, name: str, token: str | None, selection: str, **input: Any) -> dict:
        """The payload of `name`, which must have succeeded: no userErrors, a result (MUT-2)."""
        payload = self.mutate(name, token, selection, **input)
        assert payload["userErrors"] == [], payload
        assert payload.get(RESULTS[name]) is not None, payload
        return payload

    def refusal(self, name: str, token: str | None, **input: Any) -> list:
        """The userErrors of `name`, which must have been refused: a null result, at least one."""
        payload = self.mutate(name, token, RESULTS[name] + " { __typename }", **input)
        assert payload[RESULTS[name]] is None and payload["userErrors"], payload
        return user_errors(payload)

    def top_level(self, name: str, token: str | None, **input: Any) -> list:
        """The top-level errors of `name` (UNAUTHENTICATED, RATE_LIMITED...): its payload null."""
        variables = {} if name == "signOut" else {"input": input}
        result = self.ask(mutation(name, "__typename"), token, **variables)
        assert result["data"] is None or result["data"][name] is None, result
        return error_codes(result)

    # --- the market ----------------------------------------------------------------------------

    def sign_up(self, email: str | None = None, password: str = PASSWORD) -> dict:
        """{token, user {id email}} of a new account."""
        email = email or f"u{uuid.uuid4().hex[:10]}@example.com"
        payload = self.succeed(
            "signUp", None, "token user { id email }", email=email, password=password
        )
        return {"token": payload["token"], "user": payload["user"]}

    def user(self) -> str:
        """The token of a new account."""
        return self.sign_up()["token"]

    def sign_in(self, email: str, password: str = PASSWORD) -> str:
        payload = self.succeed("signIn", None, "token user { id }", email=email, password=password)
        return payload["token"]

    def me(self, token: str) -> dict:
        return self.data("{ currentUser { id email } }", token)["currentUser"]

    def sell(
        self,
        token: str,
        title: str = "Concert",
        price: str = "20",
        currency: str = "USD",
        key: str | None = None,
    ) -> dict:
        return self.succeed(
            "createTicket",
            token,
            f"ticket {{ {TICKET_FIELDS} }}",
            title=title,
            price=money(price, currency),
            idempotencyKey=key or new_key(),
        )["ticket"]

    def order(self, token: str, ticket_id: str, key: str | None = None) -> dict:
        """Orders the ticket; waits out the moment before the orders service has heard of it
        (the same key each time: a refusal records nothing, IDEM-4)."""
        key = key or new_key()
        deadline = time.monotonic() + 10
        while True:
            payload = self.mutate(
                "createOrder",
                token,
                f"order {{ {ORDER_FIELDS} }}",
                ticketId=ticket_id,
                idempotencyKey=key,
            )
            if payload["userErrors"] == [] and payload["order"] is not None:
                return payload["order"]
            not_yet = user_errors(payload) == [("NOT_FOUND", ["input", "ticketId"])]
            if not not_yet or time.monotonic() > deadline:
                raise AssertionError(payload)
            time.sleep(0.05)

    def payment(
        self, token: str, order_id: str, method: str = "pm_card_visa", key: str | None = None
    ) -> dict:
        """The createPayment payload, whatever it says."""
        return self.mutate(
            "createPayment",
            token,
            f"payment {{ {PAYMENT_FIELDS} }}",
            orderId=order_id,
            paymentMethod=method,
            idempotencyKey=key or new_key(),
        )

    def pay(
        self, token: str, order_id: str, method: str = "pm_card_visa", key: str | None = None
    ) -> dict:
        """The payment made, which must have been accepted (no userErrors)."""
        payload = self.payment(token, order_id, method, key)
        assert payload["userErrors"] == [] and payload["payment"] is not None, payload
        return payload["payment"]

    def cancel(self, token: str, order_id: str) -> dict:
        return self.succeed("cancelOrder", token, f"order {{ {ORDER_FIELDS} }}", id=order_id)[
            "order"
        ]

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
