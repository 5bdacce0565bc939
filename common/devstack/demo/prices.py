"""What a demo seller asks for seats: a face value from the event's category, the city's price
level and the section, a resale mark-up around it, in the currency of the venue's country; a
section, row and seat numbers as the category's venues have them; a quantity of 1 to 8 and a
split rule that allows it. Pure: everything is drawn from the `random.Random` given."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# A ticket's face value in a mid-priced European city (EUR), by category.
FACE_VALUE = {"CONCERT": 60, "SPORTS": 45, "THEATRE": 55, "COMEDY": 35, "FESTIVAL": 140}

# How dear tickets are in a country, against that mid-priced city.
PRICE_LEVEL = {
    "CH": 1.45, "IS": 1.3, "DK": 1.25, "SE": 1.1, "US": 1.35, "CA": 1.15, "GB": 1.15,
    "IE": 1.1, "NL": 1.05, "DE": 1.0, "AT": 1.0, "FR": 1.0, "BE": 0.95, "IT": 0.9, "ES": 0.85,
    "PT": 0.75, "CZ": 0.65, "PL": 0.6, "BR": 0.55, "MX": 0.5, "CO": 0.45,
}  # fmt: skip

# The currency a listing is in, by the venue's country (the marketplace takes EUR, GBP and USD:
# common/money.py), and what one EUR is worth in it.
CURRENCY = {"GB": "GBP", "US": "USD", "CA": "USD", "BR": "USD", "MX": "USD", "CO": "USD"}
PER_EUR = {"EUR": 1.0, "GBP": 0.85, "USD": 1.08}


@dataclass(frozen=True)
class Section:
    name: str
    factor: float  # its face value against the category's
    rows: int  # 0: standing, no rows or seat numbers


SECTIONS = {
    "CONCERT": (
        Section("Floor", 1.5, 0),
        Section("Block 112", 1.2, 25),
        Section("Block 118", 1.1, 25),
        Section("Lower Tier", 1.0, 30),
        Section("Upper Tier", 0.7, 35),
    ),
    "SPORTS": (
        Section("Main Stand", 1.4, 30),
        Section("East Stand", 1.0, 35),
        Section("North End", 0.8, 40),
        Section("Away Section", 0.8, 20),
    ),
    "THEATRE": (
        Section("Stalls", 1.3, 22),
        Section("Dress Circle", 1.1, 10),
        Section("Upper Circle", 0.8, 10),
        Section("Balcony", 0.6, 8),
    ),
    "COMEDY": (
        Section("Stalls", 1.1, 20),
        Section("Circle", 0.9, 12),
    ),
    "FESTIVAL": (
        Section("General Admission", 1.0, 0),
        Section("VIP Area", 2.2, 0),
    ),
}

# Quantities 1 to 8 as sellers list them: mostly pairs, then fours.
QUANTITIES = (1, 2, 2, 2, 2, 3, 4, 4, 4, 5, 6, 6, 8)
DELIVERY = ("E_TICKET", "E_TICKET", "E_TICKET", "MOBILE_TRANSFER", "MOBILE_TRANSFER", "BARCODE")


@dataclass(frozen=True)
class Seats:
    quantity: int
    section: str
    row: str | None  # None when standing
    seats: tuple[str, ...]  # empty when unnumbered
    split_rule: str
    delivery_method: str
    price: Decimal  # per ticket
    face_value: Decimal
    currency_code: str


def currency_of(country: str) -> str:
    return CURRENCY.get(country, "EUR")


def face_value(category: str, country: str, section: Section) -> Decimal:
    """The box-office price: the category's, times the country's level and the section's
    factor, in whole units of the country's currency."""
    eur = FACE_VALUE[category] * PRICE_LEVEL.get(country, 1.0) * section.factor
    return whole(eur * PER_EUR[currency_of(country)])


def asking_price(face: Decimal, rng: random.Random) -> Decimal:
    """A resale price: most above the face value (median +15 %), some below, none under half
    or over four times it; sellers ask whole amounts, or .50 under 20."""
    markup = min(max(rng.lognormvariate(0.14, 0.3), 0.5), 4.0)
    price = float(face) * markup
    return half(price) if price < 20 else whole(price)


def split_rule_for(quantity: int, rng: random.Random) -> str:
    """A rule the quantity allows: EVEN only for an even one, none but ANY for one seat."""
    if quantity == 1:
        return "ANY"
    rules = ["ANY", "ANY", "NO_SINGLE", "ALL"] + (["EVEN", "EVEN"] if quantity % 2 == 0 else [])
    return rng.choice(rules)


def seats_for(category: str, country: str, rng: random.Random) -> Seats:
    section = rng.choice(SECTIONS[category])
    quantity = rng.choice(QUANTITIES)
    face = face_value(category, country, section)
    if section.rows:
        row: str | None = str(rng.randint(1, section.rows))
        first = rng.randint(1, 40)
        numbers = tuple(str(first + n) for n in range(quantity))
    else:
        row, numbers = None, ()
    return Seats(
        quantity=quantity,
        section=section.name,
        row=row,
        seats=numbers,
        split_rule=split_rule_for(quantity, rng),
        delivery_method=rng.choice(DELIVERY),
        price=asking_price(face, rng),
        face_value=face,
        currency_code=currency_of(country),
    )


def whole(amount: float) -> Decimal:
    return max(Decimal(1), Decimal(str(amount)).quantize(Decimal(1), ROUND_HALF_UP)).quantize(
        Decimal("0.01")
    )


def half(amount: float) -> Decimal:
    halves = (Decimal(str(amount)) * 2).quantize(Decimal(1), ROUND_HALF_UP)
    return max(Decimal("0.5"), halves / 2).quantize(Decimal("0.01"))
