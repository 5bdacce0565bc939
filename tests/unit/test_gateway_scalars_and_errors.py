from __future__ import annotations

import json
import re
from decimal import Decimal as PyDecimal

import pytest
import strawberry
from graphql.error import GraphQLError
from starlette.responses import JSONResponse
from strawberry.schema.config import StrawberryConfig

from common.errors import (
    _CLASS_OF_CODE,
    AlreadyExists,
    AppError,
    Conflict,
    ErrorCode,
    Forbidden,
    Internal,
    InvalidInput,
    NotFound,
    PaymentDeclined,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from gateway.errors import INTERNAL_MESSAGE, ErrorCodes, field_name
from gateway.rest import app_error_response
from gateway.types.common import plain_amount
from gateway.types.scalars import SCALARS, Decimal

DECIMAL = SCALARS[Decimal]  # what the schema registers for the scalar
parse_decimal = DECIMAL.parse_value
serialize_decimal = DECIMAL.serialize


# --- Decimal scalar -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20", PyDecimal("20")),
        ("20.5", PyDecimal("20.5")),
        ("20.00", PyDecimal("20.00")),
        (" 7.25 ", PyDecimal("7.25")),
        ("0", PyDecimal("0")),
        (20, PyDecimal("20")),
        (20.5, PyDecimal("20.5")),
        (0.1, PyDecimal("0.1")),  # from the float's shortest repr, not its binary value
    ],
)
def test_decimal_parses(value: object, expected: PyDecimal) -> None:
    parsed = parse_decimal(value)
    assert isinstance(parsed, PyDecimal)
    assert parsed == expected


@pytest.mark.parametrize("value", ["abc", "", "20,5", "1.2.3", "NaN", "Infinity", "-inf"])
def test_decimal_rejects_what_is_not_a_finite_number(value: str) -> None:
    with pytest.raises(ValueError, match="is not a decimal number"):
        parse_decimal(value)


@pytest.mark.parametrize(
    "value", ["1e999999999", "-1E+21", "1e-999999999", "0E-30", "1" * 22, "0." + "0" * 20 + "1"]
)
def test_decimal_rejects_magnitudes_no_price_has(value: str) -> None:
    # "1e999999999" was a finite Decimal on main: createTicket wrote it out as a billion digits.
    with pytest.raises(ValueError, match="is out of range"):
        parse_decimal(value)
    assert parse_decimal("1e20") == PyDecimal("1e20")
    assert parse_decimal("0." + "0" * 19 + "1") == PyDecimal("1e-20")


def test_a_long_refused_value_is_not_echoed_whole() -> None:
    with pytest.raises(ValueError) as refused:
        parse_decimal("x" * 100_000)
    assert len(str(refused.value)) < 100


@pytest.mark.parametrize("value", [True, False, None, [], {}, b"20"])
def test_decimal_rejects_other_types(value: object) -> None:
    # Booleans are ints in Python, but not amounts.
    with pytest.raises(ValueError, match=re.escape('must be a string such as "20.00" or a number')):
        parse_decimal(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20", "20.00"),
        (PyDecimal("20"), "20.00"),
        (PyDecimal("20.5"), "20.50"),
        (PyDecimal("0"), "0.00"),
        (20, "20.00"),
        (19.99, "19.99"),
        (PyDecimal("1234567.891"), "1234567.89"),
    ],
)
def test_decimal_serializes_with_two_decimals(value: object, expected: str) -> None:
    assert serialize_decimal(value) == expected


def test_decimal_scalar_in_a_schema() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def double(self, amount: Decimal) -> Decimal:  # type: ignore[valid-type]
            assert isinstance(amount, PyDecimal)
            return amount * 2

    schema = strawberry.Schema(query=Query, config=StrawberryConfig(scalar_map=SCALARS))
    query = "query ($a: Decimal!) { double(amount: $a) }"

    ok = schema.execute_sync(query, variable_values={"a": "10.25"})
    assert ok.errors is None
    assert ok.data == {"double": "20.50"}

    bad = schema.execute_sync(query, variable_values={"a": "ten"})
    assert bad.data is None
    assert bad.errors and "'ten' is not a decimal number" in bad.errors[0].message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (parse_decimal("1E+3"), "1000"),  # never scientific notation towards a service
        (parse_decimal("1e-2"), "0.01"),
        (parse_decimal("20.5"), "20.5"),
        (parse_decimal(20), "20"),
    ],
)
def test_an_amount_goes_to_the_services_in_plain_notation(value: PyDecimal, expected: str) -> None:
    assert plain_amount(value) == expected


# --- gateway.errors.field_name ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("new_password", "newPassword"),
        ("current_password", "currentPassword"),
        ("email", "email"),
        ("newPassword", "newPassword"),
        ("price_in_cents", "priceInCents"),
        (None, None),
        ("", None),
    ],
)
def test_field_name(name: str | None, expected: str | None) -> None:
    assert field_name(name) == expected


# --- gateway.rest.app_error_response ------------------------------------------------------------


def body_of(response: JSONResponse) -> dict[str, object]:
    return json.loads(bytes(response.body))


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            InvalidInput("Password must be between 8 and 128 characters", field="new_password"),
            400,
            {
                "errors": [
                    {
                        "message": "Password must be between 8 and 128 characters",
                        "field": "newPassword",
                        "code": "BAD_USER_INPUT",
                    }
                ]
            },
        ),
        (
            InvalidInput("Bad request"),
            400,
            {"errors": [{"message": "Bad request", "code": "BAD_USER_INPUT"}]},
        ),
        (
            AlreadyExists("Email in use", field="email"),
            400,
            {"errors": [{"message": "Email in use", "code": "CONFLICT"}]},
        ),
        (Conflict("Ticket is reserved", field="ticketId"), 400, None),
        (Unauthenticated("Invalid credentials"), 400, None),
        (Forbidden("Not your ticket"), 403, None),
        (NotFound("No such ticket"), 404, None),
        (PaymentDeclined("Your card was declined"), 402, None),
        (RateLimited("Too many sign-ins", retry_after_seconds=30), 429, None),
        (Unavailable("A service is unavailable, try again shortly"), 503, None),
    ],
)
def test_app_error_response(error: AppError, status: int, body: dict[str, object] | None) -> None:
    response = app_error_response(error)

    assert response.status_code == status
    assert response.media_type == "application/json"
    expected = body or {"errors": [{"message": error.message, "code": error.code.value}]}
    assert body_of(response) == expected
    if error.retry_after_seconds:
        assert response.headers["retry-after"] == str(error.retry_after_seconds)


@pytest.mark.parametrize("code", list(ErrorCode))
def test_a_rest_error_has_the_code_graphql_gives_the_same_failure(code: ErrorCode) -> None:
    error = _CLASS_OF_CODE[code]("Some failure", field="ticket_id")
    in_graphql = ErrorCodes().anonymise_error(
        GraphQLError("Some failure", path=["ticket"], original_error=error)
    )
    [in_rest] = body_of(app_error_response(error))["errors"]
    assert in_rest["code"] == in_graphql.extensions["code"] == code.value


@pytest.mark.parametrize(
    "error", [Internal("pymongo.errors.ServerSelectionTimeoutError: db:27017")]
)
def test_internal_error_response_hides_the_message(error: AppError) -> None:
    response = app_error_response(error)

    assert response.status_code == 500
    assert body_of(response) == {"errors": [{"message": INTERNAL_MESSAGE, "code": "INTERNAL"}]}
    assert INTERNAL_MESSAGE == "Internal server error"
    assert b"pymongo" not in bytes(response.body)
