"""The reports as GraphQL shows them: a rate with nothing to divide is null (not 0 %), a day
without a sale has no median, the last price bucket has no upper bound."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.types.analytics import MarketReport, SellerReport
from ticketing.insights.v1 import insights_pb2


def test_nothing_to_divide_is_null_and_the_open_bucket_has_no_upper_bound() -> None:
    report = MarketReport.from_proto(
        insights_pb2.MarketReport(
            from_day="2026-03-01",
            to_day="2026-03-01",
            totals=insights_pb2.MarketDay(gmv="0.00"),
            days=[insights_pb2.MarketDay(day="2026-03-01", gmv="0.00")],
            funnel=insights_pb2.Funnel(viewed=4, ordered=0, paid=0),
            expired_orders=0,
            ended_orders=0,
            declined_charges=1,
            charge_attempts=3,
            price_distribution=[
                insights_pb2.PriceBucket(lower="500.00", upper="1000.00", count=2),
                insights_pb2.PriceBucket(lower="1000.00", upper="", count=1, sold=1),
            ],
        )
    )

    assert (report.funnel.view_to_order, report.funnel.order_to_paid) == (0.0, None)
    assert report.expiry_rate is None
    assert report.decline_rate == 1 / 3
    assert [(b.lower, b.upper, b.listed, b.sold) for b in report.price_distribution] == [
        (Decimal(500), Decimal(1000), 2, 0),
        (Decimal(1000), None, 1, 1),
    ]
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
