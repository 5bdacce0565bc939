"""Money is never a float: Decimal inside, "20.00" strings at the edges, integer cents to Stripe."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from common.errors import InvalidInput

CENT = Decimal("0.01")
MAX_PRICE = Decimal("1000000")

# The ISO 4217 currencies a ticket may be listed in, each with 2 minor digits (so CENT and
# to_cents hold for all of them). A new one is added here and to the schema's CurrencyCode.
CURRENCIES = ("EUR", "GBP", "USD")

# The one table of minor digits: how many decimals an amount of each currency has, as Stripe
# counts its minor units (https://docs.stripe.com/currencies). It covers more currencies than a
# seller may list (CURRENCIES), so that fees and charges are exact for any of them; a new
# currency is one entry. Stripe's zero-decimal currencies take whole units (JPY 1500 is 1500);
# its three-decimal ones take minor units in multiples of 10 (CHARGE_STEP).
_ZERO_DECIMAL = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DECIMAL = "BHD JOD KWD OMR TND"
_TWO_DECIMAL = "AUD BRL CAD CHF CZK DKK EUR GBP HKD INR MXN NOK NZD PLN SEK SGD USD ZAR"
MINOR_DIGITS: dict[str, int] = {
    **dict.fromkeys(_TWO_DECIMAL.split(), 2),
    **dict.fromkeys(_ZERO_DECIMAL.split(), 0),
    **dict.fromkeys(_THREE_DECIMAL.split(), 3),
}
# Stripe takes a three-decimal currency's amounts as multiples of 10 minor units.
THREE_DECIMAL_STEP = 10
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
    if raw not in CURRENCIES:
        raise InvalidInput(f"Currency must be one of {', '.join(CURRENCIES)}", field=field)
    return raw


def charge_step(currency: str) -> int:
    """The smallest amount Stripe charges in `currency`, in its minor units (10 for the
    three-decimal currencies, 1 for the others). KeyError for a currency not in MINOR_DIGITS."""
    return THREE_DECIMAL_STEP if MINOR_DIGITS[currency] == 3 else 1


def format_money(value: Decimal | str) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def to_cents(value: Decimal | str) -> int:
    return int((Decimal(value) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)
