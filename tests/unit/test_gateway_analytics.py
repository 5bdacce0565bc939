"""The reports as GraphQL shows them: a rate with nothing to divide is null (not 0 %), a day
without a sale has no median, the last price bucket of a currency has no upper bound, and money
stays per currency (never added across currencies)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.types.analytics import MarketReport, SellerReport
from gateway.types.common import CurrencyCode, Money
from ticketing.insights.v1 import insights_pb2


def test_nothing_to_divide_is_null_and_the_open_bucket_has_no_upper_bound() -> None:
    report = MarketReport.from_proto(
        insights_pb2.MarketReport(
            from_day="2026-03-01",
            to_day="2026-03-01",
            totals=insights_pb2.MarketDay(
                gmv="0.00",
                gmv_by_currency=[
                    insights_pb2.Amount(amount="20.00", currency_code="EUR"),
                    insights_pb2.Amount(amount="5.50", currency_code="USD"),
                ],
            ),
            days=[insights_pb2.MarketDay(day="2026-03-01", gmv="0.00")],
            funnel=insights_pb2.Funnel(viewed=4, ordered=0, paid=0),
            expired_orders=0,
            ended_orders=0,
            declined_charges=1,
            charge_attempts=3,
            price_distribution=[
                insights_pb2.PriceBucket(
                    lower="500.00", upper="1000.00", count=2, currency_code="GBP"
                ),
                insights_pb2.PriceBucket(
                    lower="1000.00", upper="", count=1, sold=1, currency_code="GBP"
                ),
            ],
        )
    )

    assert (report.funnel.view_to_order, report.funnel.order_to_paid) == (0.0, None)
    assert report.expiry_rate is None
    assert report.decline_rate == 1 / 3
    gbp = CurrencyCode.GBP
    assert [(b.lower, b.upper, b.listed, b.sold) for b in report.price_distribution] == [
        (
            Money(amount=Decimal(500), currency_code=gbp),
            Money(amount=Decimal(1000), currency_code=gbp),
            2,
            0,
        ),
        (Money(amount=Decimal(1000), currency_code=gbp), None, 1, 1),
    ]
    assert report.totals.gmv == [
        Money(amount=Decimal("20.00"), currency_code=CurrencyCode.EUR),
        Money(amount=Decimal("5.50"), currency_code=CurrencyCode.USD),
    ]
    assert report.days[0].figures.gmv == []  # nothing paid that day: no amount, not a zero
    assert report.days[0].day == date(2026, 3, 1)


def test_a_day_without_a_sale_has_no_median() -> None:
    report = SellerReport.from_proto(
        insights_pb2.SellerReport(
            from_day="2026-03-01",
            to_day="2026-03-02",
            totals=insights_pb2.SellerDay(sold=1, revenue="20.00", median_seconds_to_sell=0.0),
            days=[
                insights_pb2.SellerDay(day="2026-03-01", revenue="0.00"),
                insights_pb2.SellerDay(
                    day="2026-03-02", sold=1, revenue="20.00", median_seconds_to_sell=0.0
                ),
            ],
        )
    )

    assert [d.figures.median_seconds_to_sell for d in report.days] == [None, 0.0]
    assert report.totals.median_seconds_to_sell == 0.0  # sold the second it was listed
