"""The v1 API's mutations (docs/api.md §5): inputs passed through with their keys, expected
failures as userErrors at the input's path, everything else top-level."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from common.errors import (
    AlreadyExists,
    AppError,
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    PaymentDeclined,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from gateway.loaders import payments_loader, tickets_loader
from gateway.schema import build_schema
from gateway.ticket_cache import TicketReads
from tests.unit.gateway_v1_world import (
    Services,
    SignedIn,
    errors,
    gid,
    oid,
    run,
    tid,
)

# -- mutations: userErrors -----------------------------------------------------------------------

CREATE_TICKET = """mutation($input: CreateTicketInput!) {
  createTicket(input: $input) {
    ticket { id price { amount currencyCode } }
    userErrors { code field message }
  }
}"""
TICKET_INPUT = {
    "title": "Row F",
    "price": {"amount": "20", "currencyCode": "GBP"},
    "idempotencyKey": "key-1",
}


async def test_create_ticket_passes_its_key_and_currency_through_and_answers_the_ticket():
    services = Services()
    result = await run(services, CREATE_TICKET, {"input": TICKET_INPUT})
    assert result.errors is None, result.errors
    assert result.data["createTicket"] == {
        "ticket": {
            "id": gid("Ticket", tid(99)),
            "price": {"amount": "20.00", "currencyCode": "GBP"},
        },
        "userErrors": [],
    }
    [asked] = services.asked("tickets.CreateTicket")
    assert (asked.price, asked.currency_code, asked.idempotency_key) == ("20", "GBP", "key-1")


@pytest.mark.parametrize(
    ("error", "user_error"),
    [
        (InvalidInput("Title is required", field="title"), ("BAD_USER_INPUT", ["input", "title"])),
        (
            InvalidInput("Price must be positive", field="price"),
            ("BAD_USER_INPUT", ["input", "price", "amount"]),
        ),
        (
            InvalidInput("Unknown currency", field="currency_code"),
            ("BAD_USER_INPUT", ["input", "price", "currencyCode"]),
        ),
        (
            InvalidInput("Malformed key", field="idempotency_key"),
            ("BAD_USER_INPUT", ["input", "idempotencyKey"]),
        ),
        (
            IdempotencyKeyReused("Key used for another ticket"),
            ("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"]),
        ),
    ],
)
async def test_an_expected_refusal_of_create_ticket_is_a_user_error_at_its_input(error, user_error):
    services = Services()
    services.fail["CreateTicket"] = error
    result = await run(services, CREATE_TICKET, {"input": TICKET_INPUT})
    assert result.errors is None
    payload = result.data["createTicket"]
    assert payload["ticket"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [user_error]
    assert payload["userErrors"][0]["message"] == error.message


@pytest.mark.parametrize(
    "error", [Unavailable("A service is unavailable"), RateLimited("Slow down")]
)
async def test_an_unexpected_failure_of_a_mutation_stays_a_top_level_error(error):
    services = Services()
    services.fail["CreateTicket"] = error
    result = await run(services, CREATE_TICKET, {"input": TICKET_INPUT})
    assert result.data == {"createTicket": None}
    assert errors(result) == [(["createTicket"], error.code.value)]


async def test_a_mutation_signed_out_is_top_level_unauthenticated_and_calls_nothing():
    services = Services()
    result = await run(services, CREATE_TICKET, {"input": TICKET_INPUT}, signed_in=False)
    assert result.data == {"createTicket": None}
    assert errors(result) == [(["createTicket"], "UNAUTHENTICATED")]
    assert services.requests == []


ORDER = """mutation($input: CreateOrderInput!) {
  createOrder(input: $input) { order { id ticket { state } } userErrors { code field } }
}"""


@pytest.mark.parametrize(
    ("error", "user_error"),
    [
        (NotFound("Ticket not found"), ("NOT_FOUND", ["input", "ticketId"])),
        (Forbidden("That is your own ticket"), ("FORBIDDEN", ["input", "ticketId"])),
        (Conflict("The ticket is held", field="ticket_id"), ("CONFLICT", ["input", "ticketId"])),
    ],
)
async def test_create_order_refusals_name_the_ticket_id(error, user_error):
    services = Services()
    services.fail["CreateOrder"] = error
    result = await run(
        services, ORDER, {"input": {"ticketId": gid("Ticket", tid(1)), "idempotencyKey": "k"}}
    )
    payload = result.data["createOrder"]
    assert payload["order"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [user_error]


async def test_create_order_with_an_id_of_another_type_is_a_not_found_user_error_and_no_call():
    services = Services()
    result = await run(
        services, ORDER, {"input": {"ticketId": gid("Order", oid(1)), "idempotencyKey": "k"}}
    )
    assert result.data["createOrder"] == {
        "order": None,
        "userErrors": [{"code": "NOT_FOUND", "field": ["input", "ticketId"]}],
    }
    assert services.requests == []


async def test_create_order_passes_the_raw_ticket_id_and_key_and_says_held_at_once():
    services = Services()
    result = await run(
        services, ORDER, {"input": {"ticketId": gid("Ticket", tid(0)), "idempotencyKey": "k-9"}}
    )
    assert result.data["createOrder"] == {
        "order": {"id": gid("Order", oid(0)), "ticket": {"state": "HELD"}},
        "userErrors": [],
    }
    [asked] = services.asked("orders.CreateOrder")
    assert (asked.ticket_id, asked.idempotency_key) == (tid(0), "k-9")


async def test_a_declined_card_is_a_payment_declined_user_error_on_the_payment_method():
    services = Services()
    services.fail["CreatePayment"] = PaymentDeclined("Your card was declined.")
    result = await run(
        services,
        """mutation($input: CreatePaymentInput!) {
          createPayment(input: $input) { payment { id } userErrors { code field message } }
        }""",
        {
            "input": {
                "orderId": gid("Order", oid(0)),
                "paymentMethod": "pm_card_chargeDeclined",
                "idempotencyKey": "pay-1",
            }
        },
    )
    assert result.data["createPayment"] == {
        "payment": None,
        "userErrors": [
            {
                "code": "PAYMENT_DECLINED",
                "field": ["input", "paymentMethod"],
                "message": "Your card was declined.",
            }
        ],
    }
    [asked] = services.asked("payments.CreatePayment")
    assert (asked.order_id, asked.idempotency_key) == (oid(0), "pay-1")


async def test_update_ticket_sends_only_what_is_given_with_the_expected_version():
    services = Services()
    result = await run(
        services,
        """mutation($input: UpdateTicketInput!) {
          updateTicket(input: $input) { ticket { title version } userErrors { code } }
        }""",
        {"input": {"id": gid("Ticket", tid(1)), "expectedVersion": 1, "title": "Row A"}},
    )
    assert result.data["updateTicket"] == {
        "ticket": {"title": "Row A", "version": 2},
        "userErrors": [],
    }
    [asked] = services.asked("tickets.UpdateTicket")
    assert asked.HasField("title") and not asked.HasField("price")
    assert (asked.id, asked.expected_version) == (tid(1), 1)


async def test_an_update_with_nothing_to_change_is_refused_before_any_call():
    services = Services()
    result = await run(
        services,
        """mutation($input: UpdateTicketInput!) {
          updateTicket(input: $input) { ticket { id } userErrors { code field } }
        }""",
        {"input": {"id": gid("Ticket", tid(1)), "expectedVersion": 1, "title": None}},
    )
    assert result.data["updateTicket"] == {
        "ticket": None,
        "userErrors": [{"code": "BAD_USER_INPUT", "field": None}],
    }
    assert services.requests == []


async def test_a_stale_expected_version_is_a_conflict_on_it():
    services = Services()
    services.fail["WithdrawTicket"] = Conflict("The ticket changed", field="expected_version")
    result = await run(
        services,
        """mutation($input: WithdrawTicketInput!) {
          withdrawTicket(input: $input) { ticket { id } userErrors { code field } }
        }""",
        {"input": {"id": gid("Ticket", tid(1)), "expectedVersion": 0}},
    )
    assert result.data["withdrawTicket"] == {
        "ticket": None,
        "userErrors": [{"code": "CONFLICT", "field": ["input", "expectedVersion"]}],
    }


class Accounts:
    """Stands in for gateway/accounts.py: refuses sign-ins as auth does."""

    def __init__(self, error: AppError) -> None:
        self.error = error

    async def sign_in(self, *args, **kwargs):
        raise self.error

    async def sign_up(self, *args, **kwargs):
        raise self.error

    async def change_password(self, *args, **kwargs):
        raise self.error


@pytest.mark.parametrize(
    ("mutation", "error", "expected"),
    [
        (
            'signUp(input: {email: "a@example.com", password: "long enough"})',
            AlreadyExists("Email in use"),
            ("CONFLICT", ["input", "email"]),
        ),
        (
            'signIn(input: {email: "a@example.com", password: "nope"})',
            Unauthenticated("Invalid credentials"),
            ("INVALID_CREDENTIALS", ["input", "password"]),
        ),
        (
            'changePassword(input: {currentPassword: "nope", newPassword: "long enough"})',
            InvalidInput("Current password is incorrect", field="currentPassword"),
            ("INVALID_CREDENTIALS", ["input", "currentPassword"]),
        ),
        (
            'changePassword(input: {currentPassword: "ok", newPassword: "short"})',
            InvalidInput("Password must be at least 8 characters", field="new_password"),
            ("BAD_USER_INPUT", ["input", "newPassword"]),
        ),
    ],
)
async def test_auth_refusals_are_user_errors_on_their_input(mutation, error, expected):
    services = Services()
    reads = TicketReads(services, cache=None)
    context = SignedIn(
        request=SimpleNamespace(client=SimpleNamespace(host="127.0.0.1"), headers={}, cookies={}),
        response=None,
        clients=services,
        accounts=Accounts(error),
        token="token",
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(services, "token"),
    )
    result = await build_schema().execute(
        f"mutation {{ m: {mutation} {{ user {{ id }} token userErrors {{ code field }} }} }}",
        context_value=context,
    )
    assert result.errors is None, result.errors
    assert result.data["m"] == {
        "user": None,
        "token": None,
        "userErrors": [{"code": expected[0], "field": expected[1]}],
    }
