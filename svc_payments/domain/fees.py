"""The one place fees are computed (docs/design/money.md §3): what a buyer pays on top of the
ticket's price, what the platform keeps of the seller's price, and so what is charged and what
the seller is owed. Every other reader (the event page's all-in price, the sell form's
proceeds, the order's breakdown) gets these numbers from payments, never by repeating them.

The arithmetic is exact: `Decimal`, then rounded once per line item (a ticket's buyer fee, a
ticket's commission) to the currency's smallest chargeable unit with ROUND_HALF_UP; an order's
amounts are those per-ticket amounts times the quantity, so the all-in price shown per ticket
times the quantity is exactly what is charged. All amounts are integers in the currency's minor
units (common/money.py MINOR_DIGITS), never floats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from common.errors import InvalidInput
from common.money import MAX_PRICE, MINOR_DIGITS, charge_step

# A quote is for at most this many tickets of one price (an order's quantity is bounded lower).
MAX_QUOTE_QUANTITY = 1000
HUNDRED = Decimal(100)


def _round_to_step(minor: Decimal, step: int) -> int:
    """`minor` (a Decimal number of minor units) to the nearest multiple of `step`, halves up."""
    return int((minor / step).to_integral_value(rounding=ROUND_HALF_UP)) * step


def exact_minor(amount: Decimal, currency: str, what: str = "amount") -> int:
    """`amount` of `currency` in minor units, refused (ValueError) unless it is exact: a whole
    number of the currency's chargeable steps (JPY: whole yen; KWD: multiples of 0.010)."""
    digits, step = MINOR_DIGITS[currency], charge_step(currency)
    scaled = amount.scaleb(digits)
    if scaled != scaled.to_integral_value() or int(scaled) % step:
        decimals = digits - (1 if step == 10 else 0)
        if decimals == 0:
            raise ValueError(f"{what} in {currency} must be a whole number")
        raise ValueError(f"{what} in {currency} must have at most {decimals} decimals")
    return int(scaled)


@dataclass(frozen=True)
class FeeQuote:
    """What an order of `quantity` tickets at `unit_price` each costs and pays out, in minor
    units of `currency_code`. Per ticket: the price, the buyer's fee and the seller's
    commission; per order: the subtotal (prices), the buyer's fees, the total (what is
    charged), the commission and the proceeds (what the seller is to be transferred)."""

    currency_code: str
    quantity: int
    unit_price: int
    unit_buyer_fee: int
    unit_commission: int

    def __post_init__(self) -> None:
        if self.quantity < 1 or min(self.unit_price, self.unit_buyer_fee) < 0:
            raise ValueError(f"not a fee quote: {self!r}")
        if not 0 <= self.unit_commission <= self.unit_price:
            raise ValueError(f"a commission beyond the price: {self!r}")

    @property
    def unit_all_in(self) -> int:
        """What the buyer pays per ticket, fees included (the event page's price)."""
        return self.unit_price + self.unit_buyer_fee

    @property
    def unit_proceeds(self) -> int:
        """What the seller receives per ticket (the sell form's "you receive")."""
        return self.unit_price - self.unit_commission

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity

    @property
    def buyer_fees(self) -> int:
        return self.unit_buyer_fee * self.quantity

    @property
    def total(self) -> int:
        """What the buyer is charged."""
        return self.subtotal + self.buyer_fees

    @property
    def commission(self) -> int:
        return self.unit_commission * self.quantity

    @property
    def proceeds(self) -> int:
        """What the seller is owed: never negative (a commission is at most the price)."""
        return self.subtotal - self.commission

    @property
    def platform_fee(self) -> int:
        """What the platform keeps: the buyer's fees and the seller's commission
        (= total - proceeds)."""
        return self.buyer_fees + self.commission

    @classmethod
    def without_fees(cls, unit_price: int, currency_code: str, quantity: int) -> FeeQuote:
        """An order placed before fees existed: charged its prices, nothing kept."""
        return cls(currency_code, quantity, unit_price, 0, 0)


@dataclass(frozen=True)
class FeeSchedule:
    """The fee settings (svc_payments/config.py): a buyer's fee per ticket of
    `buyer_fee_percent` of the price plus `buyer_fee_fixed[currency]` (none for a currency not
    named), and a seller's commission of `seller_commission_percent` of the price."""

    buyer_fee_percent: Decimal = Decimal(0)
    buyer_fee_fixed: Mapping[str, Decimal] = field(default_factory=dict)
    seller_commission_percent: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if not 0 <= self.buyer_fee_percent <= 1000:
            raise ValueError("the buyer's fee percent must be between 0 and 1000")
        if not 0 <= self.seller_commission_percent <= 100:
            raise ValueError("the seller's commission percent must be between 0 and 100")
        for currency, amount in self.buyer_fee_fixed.items():
            if currency not in MINOR_DIGITS:
                raise ValueError(f"{currency} is not a known currency")
            if amount < 0:
                raise ValueError(f"the fixed fee in {currency} must not be negative")
            exact_minor(amount, currency, "the fixed fee")

    def with_override(self, override: FeeOverride | None) -> FeeSchedule:
        """This schedule with an event's own fees in place of its parts the event sets (a
        fixed fee: per currency, the others kept); itself for an event with none."""
        if override is None or override.empty:
            return self
        return replace(
            self,
            buyer_fee_percent=_either(override.buyer_fee_percent, self.buyer_fee_percent),
            buyer_fee_fixed={**self.buyer_fee_fixed, **dict(override.buyer_fee_fixed)},
            seller_commission_percent=_either(
                override.seller_commission_percent, self.seller_commission_percent
            ),
        )

    def quote_minor(self, unit_price: int, currency: str, quantity: int) -> FeeQuote:
        """The quote for `quantity` tickets at `unit_price` minor units of `currency` each."""
        step = charge_step(currency)
        price = Decimal(unit_price)
        fixed = self.buyer_fee_fixed.get(currency, Decimal(0)).scaleb(MINOR_DIGITS[currency])
        buyer_fee = _round_to_step(price * self.buyer_fee_percent / HUNDRED + fixed, step)
        commission = _round_to_step(price * self.seller_commission_percent / HUNDRED, step)
        return FeeQuote(currency, quantity, unit_price, buyer_fee, commission)

    def quote(self, unit_price: Decimal, currency: str, quantity: int) -> FeeQuote:
        """The quote for `quantity` tickets at `unit_price` (an amount of `currency`) each."""
        return self.quote_minor(exact_minor(unit_price, currency, "price"), currency, quantity)


def _either(given: Decimal | None, otherwise: Decimal) -> Decimal:
    return otherwise if given is None else given


@dataclass(frozen=True)
class FeeOverride:
    """An event's own fees, as the catalogue holds them (it checks them; payments copies them
    from `event.changed`): each part None (or a currency not named) is the setting's."""

    buyer_fee_percent: Decimal | None = None
    # (currency, amount) pairs, each currency once.
    buyer_fee_fixed: tuple[tuple[str, Decimal], ...] = ()
    seller_commission_percent: Decimal | None = None

    def __post_init__(self) -> None:
        for percent in (self.buyer_fee_percent, self.seller_commission_percent):
            if percent is not None and not (percent.is_finite() and 0 <= percent <= 100):
                raise ValueError(f"an event's fee percent must be between 0 and 100: {percent}")
        FeeSchedule(buyer_fee_fixed=dict(self.buyer_fee_fixed))  # each fixed fee exact

    @property
    def empty(self) -> bool:
        return self == FeeOverride()

    @classmethod
    def parse(
        cls, buyer_fee_percent: str, buyer_fee_fixed: Iterable[tuple[str, str]], commission: str
    ) -> FeeOverride:
        """From decimal strings (an empty one: unset) and (currency, amount) pairs; ValueError
        for a part that is not valid."""
        try:
            fixed = tuple((c.strip().upper(), Decimal(a)) for c, a in buyer_fee_fixed)
            percent = Decimal(buyer_fee_percent) if buyer_fee_percent.strip() else None
            cut = Decimal(commission) if commission.strip() else None
        except InvalidOperation:
            raise ValueError("an event's fees must be decimal strings") from None
        if len(dict(fixed)) != len(fixed):
            raise ValueError("an event's fixed fees name a currency twice")
        return cls(percent, fixed, cut)


def parse_fixed_fees(entries: Iterable[str]) -> dict[str, Decimal]:
    """BUYER_FEE_FIXED's entries ("USD:0.50", "JPY:50") as {currency: amount}; ValueError names
    the first entry that is not one."""
    fees: dict[str, Decimal] = {}
    for entry in entries:
        currency, sep, raw = entry.partition(":")
        currency = currency.strip().upper()
        try:
            amount = Decimal(raw.strip())
        except InvalidOperation:
            amount = Decimal("NaN")
        if not sep or currency not in MINOR_DIGITS or not amount.is_finite() or amount < 0:
            raise ValueError(
                f"must be CODE:AMOUNT entries of known currencies (USD:0.50,JPY:50), not {entry!r}"
            )
        if currency in fees:
            raise ValueError(f"names {currency} twice")
        exact_minor(amount, currency, f"{entry!r}: the amount")
        fees[currency] = amount
    return fees


@dataclass(frozen=True)
class QuoteLine:
    """One line a caller asks a quote for: a price per ticket (a decimal string), its currency
    and how many tickets."""

    price: str
    currency_code: str
    quantity: int
    event_id: str = ""  # its own fees apply (FeeSchedule.with_override); "": the settings'


def checked_line(line: QuoteLine, index: int | None = None) -> tuple[Decimal, str, int]:
    """A quote line's price, currency and quantity, or InvalidInput naming what is wrong (the
    field is prefixed with the line's index when there are several)."""
    prefix = "" if index is None else f"lines[{index}]."
    currency = (line.currency_code or "").strip().upper()
    if currency not in MINOR_DIGITS:
        raise InvalidInput(
            f"{line.currency_code!r} is not a currency", field=f"{prefix}currencyCode"
        )
    try:
        price = Decimal((line.price or "").strip())
    except InvalidOperation:
        raise InvalidInput("Price must be a number such as 20.50", field=f"{prefix}price") from None
    if not price.is_finite() or price <= 0 or price > MAX_PRICE:
        raise InvalidInput(
            f"Price must be greater than 0 and at most {MAX_PRICE}", field=f"{prefix}price"
        )
    try:
        exact_minor(price, currency, "Price")
    except ValueError as exc:
        raise InvalidInput(str(exc), field=f"{prefix}price") from None
    if not 1 <= line.quantity <= MAX_QUOTE_QUANTITY:
        raise InvalidInput(f"Quantity must be 1 to {MAX_QUOTE_QUANTITY}", field=f"{prefix}quantity")
    return price, currency, line.quantity
