"""Custom scalars of the contract: DateTime (ISO-8601, UTC) and Decimal (money as a string)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as PyDecimal
from decimal import InvalidOperation
from typing import NewType

import strawberry


def _serialize_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


DateTime = NewType("DateTime", datetime)
DATETIME = strawberry.scalar(
    name="DateTime",
    description="ISO-8601 date and time in UTC, e.g. 2026-11-24T20:15:00Z",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)


def _serialize_decimal(value: object) -> str:
    return f"{PyDecimal(str(value)):.2f}"


# Money never needs more: beyond these "1e999999999" is a finite Decimal that the resolvers would
# write out as a billion digits (`format(price, "f")`) before any service could refuse it.
MAX_DECIMAL_EXPONENT = 20


def _parse_decimal(value: object) -> PyDecimal:
    # Booleans are ints in Python; they are not amounts.
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError('Decimal must be a string such as "20.00" or a number')
    try:
        parsed = PyDecimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{_shown(value)} is not a decimal number") from None
    if not parsed.is_finite():
        raise ValueError(f"{value!r} is not a decimal number")
    exponent = parsed.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if parsed.adjusted() > MAX_DECIMAL_EXPONENT or exponent < -MAX_DECIMAL_EXPONENT:
        raise ValueError(f"{_shown(value)} is out of range")
    return parsed


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


Decimal = NewType("Decimal", PyDecimal)
DECIMAL = strawberry.scalar(
    name="Decimal",
    description='Money as a string with two decimals, e.g. "20.00"; input also takes "20", '
    '"20.5" or a number',
    serialize=_serialize_decimal,
    parse_value=_parse_decimal,
)

# Given to the schema as StrawberryConfig(scalar_map=SCALARS).
SCALARS = {DateTime: DATETIME, Decimal: DECIMAL}
