"""The currency an order is charged in, and its amounts in the currency's minor units (what
Stripe takes: integer cents for USD, EUR and GBP)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from common.errors import Conflict
from common.money import LEGACY_CURRENCY, MINOR_DIGITS

# Order events from before v1 name no currency: everything was USD then, so an event (or an order
# read from an orders service) without one is USD.
DEFAULT_CURRENCY = LEGACY_CURRENCY


def currency_or_default(code: str | None) -> str:
    """An ISO 4217 code as given, upper-cased; DEFAULT_CURRENCY when none is given."""
    return (code or "").strip().upper() or DEFAULT_CURRENCY


def _digits(currency: str) -> int:
    digits = MINOR_DIGITS.get(currency)
    if digits is None:
        # The tickets service lists only v1 currencies: a refusal, not a guess at its digits.
        raise Conflict(f"Payments in {currency} are not supported")
    return digits


def check_chargeable(currency: str) -> None:
    _digits(currency)


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` in `currency`'s minor units (20.05 USD: 2005)."""
    scaled = Decimal(amount).scaleb(_digits(currency))
    return int(scaled.to_integral_value(rounding=ROUND_HALF_UP))


def from_minor(units: int, currency: str) -> Decimal:
    """Minor units back to an amount with the currency's digits (2005 USD: 20.05)."""
    digits = _digits(currency)
    return Decimal(units).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))
