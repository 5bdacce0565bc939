"""Split rules: which quantities a buyer may take from a listing of several seats, so that what
is left can still be sold (issue 20; docs/design/marketplace.md, decision 2).

Resale marketplaces let a seller say how a listing may be split, because a single seat left
over from a row is hard to sell and a pair split apart is worth less. The four rules:

- `ANY`: any quantity from 1 to what is for sale;
- `EVEN`: even quantities only, so seats go in pairs (a listing under it is listed, and edited,
  with an even quantity, so what is left stays even);
- `ALL`: the whole listing in one order;
- `NO_SINGLE`: any quantity that does not leave exactly one seat behind.

Pure domain code: the listing that owns the seats checks a hold against it in the transaction
that takes them, and offers a buyer's picker `allowed_quantities` (never a quantity it would
refuse).
"""

from __future__ import annotations

from enum import StrEnum

from common.errors import Conflict, InvalidInput


class SplitRule(StrEnum):
    ANY = "ANY"
    EVEN = "EVEN"
    ALL = "ALL"
    NO_SINGLE = "NO_SINGLE"


class SplitRefused(Conflict):
    """The quantity asked breaks the listing's split rule (or exceeds what is for sale)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="quantity")


def allows(rule: SplitRule, quantity: int, available: int) -> bool:
    """Whether a hold of `quantity` of the `available` seats keeps to `rule`: the one statement
    of the rules, which `check_hold` explains and `allowed_quantities` lists."""
    if not 1 <= quantity <= available:
        return False
    if rule is SplitRule.EVEN:
        return quantity % 2 == 0
    if rule is SplitRule.ALL:
        return quantity == available
    if rule is SplitRule.NO_SINGLE:
        return available - quantity != 1
    return True


def _at_least_one(quantity: int) -> None:
    if quantity < 1:
        raise InvalidInput("Quantity must be at least 1", field="quantity")


def check_listed_quantity(rule: SplitRule, quantity: int) -> None:
    """A seller lists, or edits to, `quantity` seats under `rule`."""
    _at_least_one(quantity)
    if rule is SplitRule.EVEN and quantity % 2:
        raise InvalidInput("A listing sold in pairs (EVEN) has an even quantity", field="quantity")


def check_hold(rule: SplitRule, quantity: int, available: int) -> None:
    """A buyer asks for `quantity` of the `available` seats: SplitRefused, saying what the buyer
    may choose, unless `allows` it; InvalidInput for a quantity below 1."""
    _at_least_one(quantity)
    if allows(rule, quantity, available):
        return
    if quantity > available:
        left = "none are" if available == 0 else f"only {available} are"
        asked = f"{quantity} ticket{'s' if quantity != 1 else ''}"
        raise SplitRefused(f"{asked} asked, {left} for sale")
    if rule is SplitRule.EVEN:
        raise SplitRefused("These tickets are sold in pairs: choose an even quantity")
    if rule is SplitRule.ALL:
        raise SplitRefused(f"These tickets are sold together: all {available} at once")
    choose = f"{available} or at most {available - 2}" if available > 2 else f"{available}"
    raise SplitRefused(f"Taking {quantity} would leave a single ticket: choose {choose}")


def allowed_quantities(rule: SplitRule, available: int) -> list[int]:
    """Every quantity `check_hold` accepts from `available` seats, smallest first."""
    return [q for q in range(1, available + 1) if allows(rule, q, available)]
