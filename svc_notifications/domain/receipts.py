"""What a buyer's receipt says, from the service's copies of the order (OrderCreated) and of its
charge's breakdown (ChargeCreated): the orders and payments services stay the authorities; these
copies only fill in mails. Amounts are integer minor units of the order's currency, formatted with
that currency's own number of decimals (common.money.MINOR_DIGITS)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from common.money import MINOR_DIGITS


def format_minor(amount: int, currency: str) -> str:
    """`amount` minor units of `currency` as people read it: "57.00 USD", "1500 JPY",
    "1.250 KWD". A currency missing from the table is taken as two decimals."""
    digits = MINOR_DIGITS.get(currency, 2)
    value = Decimal(amount).scaleb(-digits)
    return f"{value:,.{digits}f} {currency}"


def to_minor(price: str, currency: str) -> int:
    """A decimal string ("20.00") in minor units of `currency`."""
    digits = MINOR_DIGITS.get(currency, 2)
    return int(Decimal(price).scaleb(digits).to_integral_value())


@dataclass(frozen=True)
class Charges:
    """An order's charge: total = subtotal + buyer_fees (payments' OrderCharges)."""

    subtotal: int
    buyer_fees: int
    total: int


@dataclass
class OrderCopy:
    id: str
    buyer_id: str
    seller_id: str
    quantity: int
    # Decimal string, per ticket, as placed.
    unit_price: str
    currency: str
    charges: Charges | None = None
    events: list[object] = field(default_factory=list)

    def receipt(self) -> dict[str, str]:
        """The all-in receipt's lines: the tickets, the buyer's fees, the total. Without a
        recorded breakdown (a charge from before fees), the prices are the total."""
        charges = self.charges or Charges(
            subtotal=to_minor(self.unit_price, self.currency) * self.quantity,
            buyer_fees=0,
            total=to_minor(self.unit_price, self.currency) * self.quantity,
        )
        unit = to_minor(self.unit_price, self.currency)
        return {
            "order_id": self.id,
            "quantity": str(self.quantity),
            "unit_price": format_minor(unit, self.currency),
            "subtotal": format_minor(charges.subtotal, self.currency),
            "buyer_fees": format_minor(charges.buyer_fees, self.currency),
            "total": format_minor(charges.total, self.currency),
        }
