"""Money is never a float: Decimal inside, "20.00" strings at the edges, integer cents to Stripe."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from common.errors import InvalidInput

CENT = Decimal("0.01")
MAX_PRICE = Decimal("1000000")

# The ISO 4217 currencies a ticket may be listed in, each with 2 minor digits (so CENT and
# to_cents hold for all of them). A new one is added here and to the schema's CurrencyCode.
CURRENCIES = ("EUR", "GBP", "USD")
MINOR_DIGITS = dict.fromkeys(CURRENCIES, 2)
# What prices stored before currencies were recorded are in: everything was charged in USD.
LEGACY_CURRENCY = "USD"


def parse_price(raw: str | Decimal | int, field: str = "price") -> Decimal:
    """A price a seller may ask: > 0, at most 2 decimals, at most 1,000,000."""
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidInput("Price must be a number such as 20 or 20.50", field=field) from None
    if not value.is_finite():
        raise InvalidInput("Price must be a number such as 20 or 20.50", field=field)
    if value <= 0:
        raise InvalidInput("Price must be greater than 0", field=field)
    if value > MAX_PRICE:
        raise InvalidInput("Price must be at most 1000000", field=field)
    if value != value.quantize(CENT):
        raise InvalidInput("Price must have at most 2 decimals", field=field)
    return value.quantize(CENT)


def parse_currency(raw: str, field: str = "currency_code") -> str:
    """An ISO 4217 code we accept for a price: one of CURRENCIES, exactly as written."""
    if raw not in MINOR_DIGITS:
        raise InvalidInput(f"Currency must be one of {', '.join(CURRENCIES)}", field=field)
    return raw


def format_money(value: Decimal | str) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def to_cents(value: Decimal | str) -> int:
    return int((Decimal(value) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)
