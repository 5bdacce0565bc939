"""svc_tickets/domain/split.py: the four split rules, checked against a definition written out
independently for every quantity of up to 20 seats, and the picker's list agreeing with the
check for every one of them."""

from __future__ import annotations

import pytest

from common.errors import ErrorCode, InvalidInput
from svc_tickets.domain.split import (
    SplitRefused,
    SplitRule,
    allowed_quantities,
    check_hold,
    check_listed_quantity,
)

MAX_SEATS = 20


def allowed_by_definition(rule: SplitRule, quantity: int, available: int) -> bool:
    left = available - quantity
    if not 1 <= quantity <= available:
        return False
    return {
        SplitRule.ANY: True,
        SplitRule.EVEN: quantity % 2 == 0,
        SplitRule.ALL: left == 0,
        SplitRule.NO_SINGLE: left != 1,
    }[rule]


def accepted(rule: SplitRule, quantity: int, available: int) -> bool:
    try:
        check_hold(rule, quantity, available)
    except SplitRefused:
        return False
    return True


@pytest.mark.parametrize("rule", list(SplitRule))
def test_every_hold_of_up_to_20_seats_follows_the_rule(rule: SplitRule) -> None:
    for available in range(MAX_SEATS + 1):
        for quantity in range(1, MAX_SEATS + 2):
            assert accepted(rule, quantity, available) == allowed_by_definition(
                rule, quantity, available
            ), (rule, quantity, available)


@pytest.mark.parametrize("rule", list(SplitRule))
def test_the_picker_offers_exactly_what_the_check_accepts(rule: SplitRule) -> None:
    for available in range(MAX_SEATS + 1):
        offered = allowed_quantities(rule, available)
        assert offered == [q for q in range(1, MAX_SEATS + 2) if accepted(rule, q, available)]


def test_an_even_listing_sold_in_pairs_never_leaves_an_odd_remainder() -> None:
    for listed in range(2, MAX_SEATS + 1, 2):
        check_listed_quantity(SplitRule.EVEN, listed)
        assert all((listed - q) % 2 == 0 for q in allowed_quantities(SplitRule.EVEN, listed))


def test_an_odd_quantity_cannot_be_listed_in_pairs() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_listed_quantity(SplitRule.EVEN, 3)
    assert refused.value.field == "quantity"


@pytest.mark.parametrize("rule", list(SplitRule))
def test_a_quantity_below_one_is_invalid_input_not_a_conflict(rule: SplitRule) -> None:
    for bad in (0, -1):
        with pytest.raises(InvalidInput):
            check_hold(rule, bad, 4)
        with pytest.raises(InvalidInput):
            check_listed_quantity(rule, bad)


@pytest.mark.parametrize(
    ("rule", "quantity", "available", "message"),
    [
        (SplitRule.ANY, 5, 4, "5 tickets asked, only 4 are for sale"),
        (SplitRule.ANY, 1, 0, "1 ticket asked, none are for sale"),
        (SplitRule.EVEN, 3, 4, "These tickets are sold in pairs: choose an even quantity"),
        (SplitRule.ALL, 2, 4, "These tickets are sold together: all 4 at once"),
        (
            SplitRule.NO_SINGLE,
            3,
            4,
            "Taking 3 would leave a single ticket: choose 4 or at most 2",
        ),
        (SplitRule.NO_SINGLE, 1, 2, "Taking 1 would leave a single ticket: choose 2"),
    ],
)
def test_a_refusal_says_what_the_buyer_may_choose(rule, quantity, available, message) -> None:
    with pytest.raises(SplitRefused) as refused:
        check_hold(rule, quantity, available)
    assert str(refused.value.message) == message
    assert refused.value.code is ErrorCode.CONFLICT
    assert refused.value.field == "quantity"
