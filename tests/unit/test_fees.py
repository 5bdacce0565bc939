"""Fees (svc_payments/domain/fees.py): what a buyer pays and a seller is owed, exact to the minor
unit in every currency, and the settings that set them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.errors import InvalidInput
from common.money import CURRENCIES, MINOR_DIGITS, charge_step, parse_currency
from common.settings import ConfigError
from svc_payments.config import PaymentsSettings
from svc_payments.domain.fees import (
    MAX_QUOTE_QUANTITY,
    FeeOverride,
    FeeQuote,
    FeeSchedule,
    QuoteLine,
    checked_line,
    parse_fixed_fees,
)
from svc_payments.service_layer.fee_quotes import quote_lines

EXAMPLE = FeeSchedule(
    buyer_fee_percent=Decimal(10),
    buyer_fee_fixed=parse_fixed_fees(["USD:0.50", "EUR:0.50", "GBP:0.40", "JPY:50", "KWD:0.15"]),
    seller_commission_percent=Decimal(5),
)


def test_a_usd_order_pays_ten_percent_and_fifty_cents_per_ticket_and_keeps_five_percent():
    quote = EXAMPLE.quote(Decimal("20.00"), "USD", 3)
    assert (quote.unit_price, quote.unit_buyer_fee, quote.unit_all_in) == (2000, 250, 2250)
    assert (quote.subtotal, quote.buyer_fees, quote.total) == (6000, 750, 6750)
    assert (quote.unit_commission, quote.commission, quote.proceeds) == (100, 300, 5700)
    assert (quote.unit_proceeds, quote.platform_fee) == (1900, 1050)


def test_fees_are_rounded_half_up_once_per_ticket_not_per_order():
    # 10 % of 20.05 is 2.005; with 0.50 it is 2.505: 2.51 per ticket (half up), 7.53 for three.
    # Rounding the order's 7.515 once would give 7.52: the all-in price shown per ticket times
    # the quantity would then not be what is charged.
    quote = EXAMPLE.quote(Decimal("20.05"), "USD", 3)
    assert quote.unit_buyer_fee == 251 and quote.buyer_fees == 753
    assert quote.total == 3 * quote.unit_all_in == 6768
    # 5 % of 20.05 is 1.0025: 1.00 per ticket.
    assert (quote.unit_commission, quote.commission) == (100, 300)
    # 0.5 of a cent rounds up, 0.4999 down.
    half = FeeSchedule(seller_commission_percent=Decimal(50))
    assert half.quote(Decimal("0.01"), "USD", 1).unit_commission == 1
    assert (
        FeeSchedule(buyer_fee_percent=Decimal("4.999")).quote_minor(10, "USD", 1).unit_buyer_fee
        == 0
    )


def test_jpy_has_no_minor_unit_fees_are_whole_yen():
    quote = EXAMPLE.quote(Decimal(1505), "JPY", 2)
    # 10 % of 1505 = 150.5 (+ 50 = 200.5): 201 yen; 5 % = 75.25: 75 yen.
    assert (quote.unit_price, quote.unit_buyer_fee, quote.unit_commission) == (1505, 201, 75)
    assert (quote.total, quote.proceeds) == (3412, 2860)
    with pytest.raises(ValueError, match="whole number"):
        EXAMPLE.quote(Decimal("1505.5"), "JPY", 1)


def test_kwd_has_three_decimals_charged_in_multiples_of_ten_fils():
    # 12.340 KWD is 12340 fils; 10 % = 1234 + 150 = 1384 fils, to a multiple of 10: 1380;
    # 5 % = 617 fils: 620.
    quote = EXAMPLE.quote(Decimal("12.34"), "KWD", 1)
    assert (quote.unit_price, quote.unit_buyer_fee, quote.unit_commission) == (12340, 1380, 620)
    assert quote.total % 10 == 0 and quote.proceeds % 10 == 0
    with pytest.raises(ValueError, match="at most 2 decimals"):
        EXAMPLE.quote(Decimal("12.345"), "KWD", 1)


def test_a_currency_without_a_fixed_fee_pays_the_percentage_only():
    quote = EXAMPLE.quote(Decimal("10.00"), "CHF", 1)
    assert quote.unit_buyer_fee == 100


def test_no_fees_configured_charges_the_prices_and_keeps_nothing():
    quote = FeeSchedule().quote(Decimal("19.99"), "GBP", 4)
    assert (quote.total, quote.proceeds, quote.platform_fee) == (7996, 7996, 0)


def test_the_minor_digits_table_covers_stripes_zero_and_three_decimal_currencies():
    zero = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
    three = "BHD JOD KWD OMR TND".split()
    assert {c: MINOR_DIGITS[c] for c in zero} == dict.fromkeys(zero, 0)
    assert {c: MINOR_DIGITS[c] for c in three} == dict.fromkeys(three, 3)
    assert {charge_step(c) for c in three} == {10} and charge_step("JPY") == 1
    # What a seller may list in stays EUR, GBP and USD (2 digits each): a JPY listing is refused.
    assert all(MINOR_DIGITS[c] == 2 for c in CURRENCIES)
    with pytest.raises(InvalidInput, match="Currency must be one of EUR, GBP, USD"):
        parse_currency("JPY")


def _price(currency: str) -> st.SearchStrategy[int]:
    """A price in minor units that the currency can charge: up to 1,000,000 units."""
    step = charge_step(currency)
    top = 1_000_000 * 10 ** MINOR_DIGITS[currency] // step
    return st.integers(min_value=1, max_value=top).map(lambda n: n * step)


@st.composite
def orders(draw):
    currency = draw(st.sampled_from(sorted(MINOR_DIGITS)))
    schedule = FeeSchedule(
        buyer_fee_percent=draw(st.decimals(0, 100, places=3)),
        buyer_fee_fixed={currency: Decimal(draw(_price(currency))).scaleb(-MINOR_DIGITS[currency])}
        if draw(st.booleans())
        else {},
        seller_commission_percent=draw(st.decimals(0, 100, places=3)),
    )
    return schedule, draw(_price(currency)), currency, draw(st.integers(1, MAX_QUOTE_QUANTITY))


@settings(max_examples=400, deadline=None)
@given(orders())
def test_what_is_charged_less_what_is_paid_out_is_exactly_the_platforms_fees(order):
    schedule, unit_price, currency, quantity = order
    quote = schedule.quote_minor(unit_price, currency, quantity)
    assert quote.total - quote.proceeds == quote.buyer_fees + quote.commission
    assert quote.total == quote.unit_all_in * quantity == quote.subtotal + quote.buyer_fees
    assert 0 <= quote.proceeds <= quote.subtotal <= quote.total
    step = charge_step(currency)
    assert all(
        amount % step == 0
        for amount in (quote.total, quote.proceeds, quote.buyer_fees, quote.commission)
    )
    # The decimal route gives the same quote as the minor units.
    amount = Decimal(unit_price).scaleb(-MINOR_DIGITS[currency])
    assert schedule.quote(amount, currency, quantity) == quote


def test_a_quote_is_refused_when_it_would_pay_a_seller_less_than_nothing():
    with pytest.raises(ValueError):
        FeeQuote("USD", 1, 100, 0, 101)
    with pytest.raises(ValueError, match="between 0 and 100"):
        FeeSchedule(seller_commission_percent=Decimal(101))


def test_the_fee_settings_are_read_and_bad_ones_refused_by_name():
    settings = PaymentsSettings.from_env(
        {
            "BUYER_FEE_PERCENT": "10",
            "BUYER_FEE_FIXED": "USD:0.50, eur:0.50,JPY:50",
            "SELLER_COMMISSION_PERCENT": "5",
        }
    )
    assert settings.fee_schedule() == FeeSchedule(
        Decimal(10),
        {"USD": Decimal("0.50"), "EUR": Decimal("0.50"), "JPY": Decimal(50)},
        Decimal(5),
    )
    assert PaymentsSettings.from_env({}).fee_schedule() == FeeSchedule()  # no fees unless set
    refused = {
        "BUYER_FEE_FIXED": ("USD:0.505", "BUYER_FEE_FIXED 'USD:0.505': the amount in USD must"),
        "BUYER_FEE_PERCENT": ("-1", "BUYER_FEE_PERCENT must be between 0 and 1000"),
        "SELLER_COMMISSION_PERCENT": ("150", "SELLER_COMMISSION_PERCENT must be between 0 and 100"),
    }
    for name, (value, message) in refused.items():
        with pytest.raises(ConfigError, match=message.replace("'", ".")):
            PaymentsSettings.from_env({name: value})
    for value in ("XXX:1", "USD", "USD:-1", "JPY:0.5", "USD:1,USD:2"):
        with pytest.raises(ConfigError, match="BUYER_FEE_FIXED"):
            PaymentsSettings.from_env({"BUYER_FEE_FIXED": value})


def test_quote_lines_are_checked_and_a_bad_one_is_named_by_its_index():
    assert checked_line(QuoteLine("20.5", "usd", 2)) == (Decimal("20.5"), "USD", 2)
    bad = {
        QuoteLine("0", "USD", 1): "lines[1].price",
        QuoteLine("abc", "USD", 1): "lines[1].price",
        QuoteLine("1000000.01", "USD", 1): "lines[1].price",
        QuoteLine("1.001", "USD", 1): "lines[1].price",
        QuoteLine("1", "XTS", 1): "lines[1].currencyCode",
        QuoteLine("1", "USD", 0): "lines[1].quantity",
        QuoteLine("1", "USD", MAX_QUOTE_QUANTITY + 1): "lines[1].quantity",
    }
    for line, field in bad.items():
        with pytest.raises(InvalidInput) as refused:
            quote_lines(EXAMPLE, [QuoteLine("10", "USD", 1), line])
        assert refused.value.field == field, line
    with pytest.raises(InvalidInput, match="At most 500"):
        quote_lines(EXAMPLE, [QuoteLine("10", "USD", 1)] * 501)
    assert [q.total for q in quote_lines(EXAMPLE, [QuoteLine("10", "USD", 1)] * 2)] == [1150] * 2


# -- an event's own fees (FeeSchedule.with_override) -------------------------------------------


def test_an_events_own_fees_replace_the_parts_it_sets_and_keep_the_others():
    override = FeeOverride(Decimal("2.5"), (("EUR", Decimal("1.00")),), None)
    schedule = EXAMPLE.with_override(override)
    # USD: 2.5 % of 20.00 = 0.50, plus the setting's 0.50 (no USD fixed fee of its own);
    # the commission stays the setting's 5 % (1.00).
    usd = schedule.quote(Decimal("20.00"), "USD", 2)
    assert (usd.unit_buyer_fee, usd.unit_commission, usd.total) == (100, 100, 4200)
    # EUR: its own fixed fee 1.00 in place of the setting's (none for EUR).
    eur = schedule.quote(Decimal("20.00"), "EUR", 1)
    assert eur.unit_buyer_fee == 50 + 100
    # No fees at all for this event: every part set to 0.
    free = EXAMPLE.with_override(FeeOverride(Decimal(0), (("USD", Decimal(0)),), Decimal(0)))
    assert free.quote(Decimal("20.00"), "USD", 3).platform_fee == 0
    # None, or an empty override: the settings themselves.
    assert EXAMPLE.with_override(None) is EXAMPLE
    assert EXAMPLE.with_override(FeeOverride()) is EXAMPLE


def test_an_events_fees_are_read_from_decimal_strings_or_refused():
    parsed = FeeOverride.parse("7.5", [("usd", "0.25")], "")
    assert parsed == FeeOverride(Decimal("7.5"), (("USD", Decimal("0.25")),), None)
    assert FeeOverride.parse("", [], "").empty
    for bad in (
        ("101", [], ""),
        ("", [], "-1"),
        ("x", [], ""),
        ("", [("USD", "0.001")], ""),
        ("", [("XTS", "1")], ""),
        ("", [("USD", "1"), ("USD", "2")], ""),
    ):
        with pytest.raises(ValueError):
            FeeOverride.parse(*bad)


@st.composite
def overridden_orders(draw):
    schedule, unit_price, currency, quantity = draw(orders())
    percent = st.none() | st.decimals(0, 100, places=4)
    fixed = st.just(()) | _price(currency).map(
        lambda minor: ((currency, Decimal(minor).scaleb(-MINOR_DIGITS[currency])),)
    )
    override = FeeOverride(draw(percent), draw(fixed), draw(percent))
    return schedule.with_override(override), unit_price, currency, quantity


@settings(max_examples=300, deadline=None)
@given(overridden_orders())
def test_the_invariant_holds_under_an_events_own_fees(order):
    schedule, unit_price, currency, quantity = order
    quote = schedule.quote_minor(unit_price, currency, quantity)
    assert quote.total - quote.proceeds == quote.buyer_fees + quote.commission
    assert quote.total == quote.unit_all_in * quantity == quote.subtotal + quote.buyer_fees
    assert 0 <= quote.proceeds <= quote.subtotal <= quote.total
    step = charge_step(currency)
    assert all(amount % step == 0 for amount in (quote.total, quote.proceeds, quote.commission))


def test_a_quote_line_naming_an_event_gets_that_events_fees_others_the_settings():
    own = EXAMPLE.with_override(FeeOverride(seller_commission_percent=Decimal(0)))
    lines = [QuoteLine("10", "USD", 1, "ev-1"), QuoteLine("10", "USD", 1, "ev-2")]
    first, second = quote_lines(EXAMPLE, lines, {"ev-1": own})
    assert (first.commission, second.commission) == (0, 50)
    assert first.total == second.total == 1150
