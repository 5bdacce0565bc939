"""Mutations' expected failures as userErrors (docs/api.md MUT-2..4).

A mutation runs its service call inside `expected_failures`: an `AppError` whose code a client
can act on (bad input, not found, forbidden, a conflict, a declined card, a reused key) becomes a
`UserError` with `field` = the path of the input value it is about; anything else (UNAUTHENTICATED,
RATE_LIMITED, UNAVAILABLE, INTERNAL) propagates as a top-level error through ErrorCodes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from common.errors import AppError, ErrorCode
from gateway.errors import field_name
from gateway.types.common import USER_ERROR_CODES, UserError, UserErrorCode

# Service fields that live inside an input object rather than at its top (MoneyInput).
NESTED_FIELDS: Mapping[str, list[str]] = {
    "price": ["price", "amount"],
    "currency_code": ["price", "currencyCode"],
    "currencyCode": ["price", "currencyCode"],
}


def input_path(service_field: str | None) -> list[str] | None:
    """["input", <camelCase field>], or its nested path; None when the error names no field."""
    if not service_field:
        return None
    nested = NESTED_FIELDS.get(service_field)
    if nested is not None:
        return ["input", *nested]
    name = field_name(service_field)
    assert name is not None
    return ["input", name]


class Outcome:
    """What `expected_failures` caught: the userErrors of the payload (empty if none)."""

    def __init__(self) -> None:
        self.user_errors: list[UserError] = []

    @property
    def failed(self) -> bool:
        return bool(self.user_errors)


@contextmanager
def expected_failures(
    *,
    subject: str | None = None,
    invalid_credentials: str | None = None,
) -> Iterator[Outcome]:
    """Turns the expected AppErrors raised inside into the outcome's userErrors.

    - `subject`: the input field an error naming no field is about (NOT_FOUND, FORBIDDEN and
      CONFLICT on the mutation's object: "id", "ticketId", "orderId");
    - `invalid_credentials`: the input field whose mismatch is INVALID_CREDENTIALS (signIn's
      UNAUTHENTICATED from auth; changePassword's refused current password).
    """
    outcome = Outcome()
    try:
        yield outcome
    except AppError as error:
        user_error = _user_error(error, subject, invalid_credentials)
        if user_error is None:
            raise
        outcome.user_errors.append(user_error)


def _user_error(
    error: AppError, subject: str | None, invalid_credentials: str | None
) -> UserError | None:
    if invalid_credentials is not None and _is_wrong_password(error, invalid_credentials):
        return UserError(
            code=UserErrorCode.INVALID_CREDENTIALS,
            field=["input", invalid_credentials],
            message=error.message,
        )
    if error.code not in USER_ERROR_CODES:
        return None
    if error.code is ErrorCode.PAYMENT_DECLINED:
        return UserError.of(error, ["input", "paymentMethod"])
    if error.code is ErrorCode.IDEMPOTENCY_KEY_REUSED:
        return UserError.of(error, ["input", "idempotencyKey"])
    path = input_path(error.field)
    if path is None and subject is not None and error.code in _ABOUT_THE_SUBJECT:
        path = ["input", subject]
    return UserError.of(error, path)


_ABOUT_THE_SUBJECT = frozenset({ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN, ErrorCode.CONFLICT})


def _is_wrong_password(error: AppError, field: str) -> bool:
    if field == "password":  # signIn: auth says UNAUTHENTICATED for any mismatch
        return error.code is ErrorCode.UNAUTHENTICATED
    # changePassword: auth refuses the current password as BAD_USER_INPUT on it
    return error.code is ErrorCode.BAD_USER_INPUT and field_name(error.field) == field
