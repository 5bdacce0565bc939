"""Reports between the domain and insights.v1 messages: days as `YYYY-MM-DD`, money as
decimal strings (with a currency code in an Amount), rates as fractions (0 when there is nothing
to divide)."""

from __future__ import annotations

import re
from datetime import date

from common.errors import InvalidInput
from common.jwt import Claims
from common.money import format_money
from svc_insights.domain.event_reports import EventReport
from svc_insights.domain.reports import (
    Amount,
    MarketDay,
    MarketReport,
    Reader,
    SellerFigures,
    SellerReport,
)
from ticketing.insights.v1 import insights_pb2

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def reader_of(claims: Claims) -> Reader:
    return Reader(claims.user_id, is_admin=claims.is_admin)


def day_of(text: str, field: str) -> date:
    if not _DAY.fullmatch(text):
        raise InvalidInput(f"{field} must be a day such as 2026-03-01", field=field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text} is not a day of the calendar", field=field) from None


def _rate(value: float | None) -> float:
    return 0.0 if value is None else value


def _amounts(amounts: tuple[Amount, ...]) -> list[insights_pb2.Amount]:
    return [
        insights_pb2.Amount(amount=format_money(a.amount), currency_code=a.currency)
        for a in amounts
    ]


def _seller_day(day: str, figures: SellerFigures) -> insights_pb2.SellerDay:
    return insights_pb2.SellerDay(
        day=day,
        listed=figures.listed,
        sold=figures.sold,
        expired_unpaid=figures.expired_unpaid,
        revenue=format_money(figures.revenue),
        median_seconds_to_sell=figures.median_seconds_to_sell,
        views=figures.views,
        revenue_by_currency=_amounts(figures.revenue_by_currency),
    )


def seller_report_to_proto(report: SellerReport) -> insights_pb2.SellerReport:
    return insights_pb2.SellerReport(
        seller_id=report.seller_id,
        from_day=report.range.first.isoformat(),
        to_day=report.range.last.isoformat(),
        totals=_seller_day("", report.totals),
        days=[_seller_day(d.day.isoformat(), d.figures) for d in report.days],
        ticket_views=[
            insights_pb2.TicketViews(ticket_id=t.ticket_id, title=t.title, views=t.views)
            for t in report.tickets
        ],
    )


def _market_day(day: str, figures: MarketDay) -> insights_pb2.MarketDay:
    return insights_pb2.MarketDay(
        day=day,
        gmv=format_money(figures.gmv),
        orders=figures.orders,
        active_users=figures.active_users,
        paid_orders=figures.paid_orders,
        anonymous_users=figures.anonymous,
        gmv_by_currency=_amounts(figures.gmv_by_currency),
    )


def market_report_to_proto(report: MarketReport) -> insights_pb2.MarketReport:
    funnel = report.funnel
    return insights_pb2.MarketReport(
        from_day=report.range.first.isoformat(),
        to_day=report.range.last.isoformat(),
        totals=_market_day("", report.totals),
        days=[_market_day(d.day.isoformat(), d) for d in report.days],
        funnel=insights_pb2.Funnel(
            viewed=funnel.viewed,
            ordered=funnel.ordered,
            paid=funnel.paid,
            view_to_order=_rate(funnel.ordered_per_viewed),
            order_to_paid=_rate(funnel.paid_per_ordered),
            view_to_paid=_rate(funnel.paid_per_viewed),
        ),
        expiry_rate=_rate(report.expired.rate),
        decline_rate=_rate(report.declined.rate),
        expired_orders=report.expired.count,
        ended_orders=report.expired.of,
        declined_charges=report.declined.count,
        charge_attempts=report.declined.of,
        top_sellers=[
            insights_pb2.SellerRanking(
                seller_id=s.seller_id,
                revenue=format_money(s.revenue),
                sold=s.sold,
                revenue_by_currency=_amounts(s.revenue_by_currency),
            )
            for s in report.top_sellers
        ],
        price_distribution=[
            insights_pb2.PriceBucket(
                lower=format_money(b.lower),
                upper=format_money(b.upper) if b.upper is not None else "",
                count=b.listed,
                sold=b.sold,
                currency_code=b.currency,
            )
            for b in report.price_distribution
        ],
    )


def event_report_to_proto(report: EventReport) -> insights_pb2.EventReport:
    funnel = report.funnel
    return insights_pb2.EventReport(
        event_id=report.event_id,
        from_day=report.days.first.isoformat(),
        to_day=report.days.last.isoformat(),
        event_views=report.event_views,
        listing_views=report.listing_views,
        orders_placed=report.orders_placed,
        orders_paid=report.orders_paid,
        seats_sold=report.seats_sold,
        revenue=_amounts(report.revenue_by_currency),
        funnel=insights_pb2.EventFunnel(
            viewed_event=funnel.viewed_event,
            viewed_listing=funnel.viewed_listing,
            ordered=funnel.ordered,
            paid=funnel.paid,
        ),
        listings=[
            insights_pb2.EventListingFigures(
                ticket_id=listing.ticket_id,
                seller_id=listing.seller_id,
                views=listing.views,
                orders_placed=listing.orders_placed,
                orders_paid=listing.orders_paid,
                seats_sold=listing.seats_sold,
                revenue=_amounts(listing.revenue_by_currency),
            )
            for listing in report.listings
        ],
    )
