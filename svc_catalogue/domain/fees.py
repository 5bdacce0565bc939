"""An event's own fees (docs/design/money.md §3): what an operator sets in place of the payments
settings for one event. The catalogue holds and checks them; payments, which computes every
fee, copies them from `event.changed`.

Each part is optional (None: the setting's): the buyer's fee percent, the buyer's fixed fee per
currency (a currency not named: the setting's) and the seller's commission percent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from common.errors import InvalidInput
from common.money import MINOR_DIGITS, charge_step

# A percent has at most this many decimals ("12.3456"): exact, and bounded for storage.
PERCENT_DECIMALS = 4
MAX_FIXED_FEE = Decimal(1000)


@dataclass(frozen=True)
class FeeOverride:
    buyer_fee_percent: Decimal | None = None
    # (currency, amount) pairs, each currency once, sorted by currency.
    buyer_fee_fixed: tuple[tuple[str, Decimal], ...] = ()
    seller_commission_percent: Decimal | None = None

    @property
    def empty(self) -> bool:
        return self == FeeOverride()


def _percent(raw: str, field: str, label: str) -> Decimal | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{label} must be a number such as 7.5", field=field) from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise InvalidInput(f"{label} must be between 0 and 100", field=field)
    if value != round(value, PERCENT_DECIMALS):
        raise InvalidInput(f"{label} must have at most {PERCENT_DECIMALS} decimals", field=field)
    # Without trailing zeros, in plain notation ("7.50" -> "7.5", never "2E+1" for 20).
    return Decimal(format(value.normalize(), "f"))


def _fixed(raw_amount: str, raw_currency: str, field: str) -> tuple[str, Decimal]:
    currency = (raw_currency or "").strip().upper()
    if currency not in MINOR_DIGITS:
        raise InvalidInput(f"{raw_currency!r} is not a currency", field=f"{field}.currency_code")
    try:
        amount = Decimal((raw_amount or "").strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or not 0 <= amount <= MAX_FIXED_FEE:
        raise InvalidInput(
            f"The fixed fee must be an amount from 0 to {MAX_FIXED_FEE}", field=f"{field}.amount"
        )
    digits, step = MINOR_DIGITS[currency], charge_step(currency)
    scaled = amount.scaleb(digits)
    if scaled != scaled.to_integral_value() or int(scaled) % step:
        decimals = digits - (1 if step == 10 else 0)
        raise InvalidInput(
            f"The fixed fee in {currency} must have at most {decimals} decimals",
            field=f"{field}.amount",
        )
    return currency, amount.quantize(Decimal(1).scaleb(-digits))


def check_fee_override(
    buyer_fee_percent: str,
    buyer_fee_fixed: list[tuple[str, str]],
    seller_commission_percent: str,
) -> FeeOverride:
    """An operator's fees for an event, each part checked (InvalidInput naming the first bad
    one's field); `buyer_fee_fixed` as (amount, currency) strings."""
    buyer = _percent(buyer_fee_percent, "buyer_fee_percent", "The buyer's fee percent")
    fixed: dict[str, Decimal] = {}
    for index, (amount, currency) in enumerate(buyer_fee_fixed):
        code, value = _fixed(amount, currency, f"buyer_fee_fixed[{index}]")
        if code in fixed:
            raise InvalidInput(
                f"{code} is given twice", field=f"buyer_fee_fixed[{index}].currency_code"
            )
        fixed[code] = value
    commission = _percent(
        seller_commission_percent, "seller_commission_percent", "The seller's commission percent"
    )
    return FeeOverride(buyer, tuple(sorted(fixed.items())), commission)
