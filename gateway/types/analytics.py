"""The analytics reports as GraphQL types, built from insights' messages. Days are `Date`s
(UTC); money is `Decimal`; a rate or conversion is a fraction between 0 and 1, null when there
was nothing to divide (no view, no order that ended)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as PyDecimal

import strawberry

from gateway.types.scalars import Decimal
from ticketing.insights.v1 import insights_pb2


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _fraction(part: int, whole: int) -> float | None:
    return part / whole if whole else None


_EVERY_DAY = "Every day of the range, oldest first; a day with nothing has zeros."


@strawberry.type
class _DayRange:
    """The range a report covers (its `from` and `to` fields, first in both reports)."""

    from_day: date = strawberry.field(name="from")
    to_day: date = strawberry.field(name="to")


@strawberry.type(description="A seller's figures over a day or a range of days.")
class SellerFigures:
    listed: int = strawberry.field(description="Tickets the seller listed.")
    sold: int = strawberry.field(description="Tickets of the seller's paid for.")
    expired_unpaid: int = strawberry.field(
        description="Orders on the seller's tickets cancelled because they expired unpaid."
    )
    revenue: Decimal = strawberry.field(description="What buyers paid for the tickets sold.")
    median_seconds_to_sell: float | None = strawberry.field(
        description="Median seconds from listing to payment of the tickets sold; null: none sold."
    )
    views: int = strawberry.field(description="Views of the seller's tickets, not the seller's.")

    @classmethod
    def from_proto(cls, d: insights_pb2.SellerDay) -> SellerFigures:
        return cls(
            listed=d.listed,
            sold=d.sold,
            expired_unpaid=d.expired_unpaid,
            revenue=PyDecimal(d.revenue),
            median_seconds_to_sell=(
                d.median_seconds_to_sell if d.HasField("median_seconds_to_sell") else None
            ),
            views=d.views,
        )


@strawberry.type
class SellerDay:
    day: date
    figures: SellerFigures


@strawberry.type
class TicketViews:
    ticket_id: strawberry.ID
    title: str
    views: int


@strawberry.type(description="The signed-in seller's own figures, per UTC day and in total.")
class SellerReport(_DayRange):
    totals: SellerFigures
    days: list[SellerDay] = strawberry.field(description=_EVERY_DAY)
    tickets: list[TicketViews] = strawberry.field(
        description="The seller's tickets listed by the end of the range, most viewed in it "
        "first (at most 100)."
    )

    @classmethod
    def from_proto(cls, r: insights_pb2.SellerReport) -> SellerReport:
        return cls(
            from_day=_day(r.from_day),
            to_day=_day(r.to_day),
            totals=SellerFigures.from_proto(r.totals),
            days=[SellerDay(day=_day(d.day), figures=SellerFigures.from_proto(d)) for d in r.days],
            tickets=[
                TicketViews(ticket_id=strawberry.ID(t.ticket_id), title=t.title, views=t.views)
                for t in r.ticket_views
            ],
        )


@strawberry.type(description="The marketplace over a day or a range of days.")
class MarketFigures:
    gmv: Decimal = strawberry.field(description="What buyers paid (orders paid).")
    orders: int = strawberry.field(description="Orders placed.")
    paid_orders: int
    active_users: int = strawberry.field(
        description="Distinct visitors who did anything: users, and anonymous visitors (an "
        "anonymous id is its user once it was seen signed in)."
    )
    anonymous_users: int = strawberry.field(
        description="Of the active users, anonymous ids never seen signed in."
    )

    @classmethod
    def from_proto(cls, d: insights_pb2.MarketDay) -> MarketFigures:
        return cls(
            gmv=PyDecimal(d.gmv),
            orders=d.orders,
            paid_orders=d.paid_orders,
            active_users=d.active_users,
            anonymous_users=d.anonymous_users,
        )


@strawberry.type
class MarketDay:
    day: date
    figures: MarketFigures


@strawberry.type(
    description="Distinct visitors who viewed a ticket in the range; of them, those who also "
    "started or placed an order; of those, the ones who also paid one."
)
class Funnel:
    viewed: int
    ordered: int
    paid: int
    view_to_order: float | None
    order_to_paid: float | None
    view_to_paid: float | None

    @classmethod
    def from_proto(cls, f: insights_pb2.Funnel) -> Funnel:
        return cls(
            viewed=f.viewed,
            ordered=f.ordered,
            paid=f.paid,
            view_to_order=_fraction(f.ordered, f.viewed),
            order_to_paid=_fraction(f.paid, f.ordered),
            view_to_paid=_fraction(f.paid, f.viewed),
        )


@strawberry.type
class TopSeller:
    seller_id: strawberry.ID
    revenue: Decimal
    sold: int


@strawberry.type(description="Prices in [lower, upper); upper is null for the last bucket.")
class PriceBucket:
    lower: Decimal
    upper: Decimal | None
    listed: int = strawberry.field(description="Tickets listed in the range at such a price.")
    sold: int = strawberry.field(description="Orders paid in the range at such a price.")


@strawberry.type(description="The whole marketplace, for operators.")
class MarketReport(_DayRange):
    totals: MarketFigures
    days: list[MarketDay] = strawberry.field(description=_EVERY_DAY)
    funnel: Funnel
    expired_orders: int = strawberry.field(
        description="Orders cancelled in the range because they expired unpaid."
    )
    ended_orders: int = strawberry.field(
        description="Orders that ended in the range: paid, or cancelled for any reason."
    )
    expiry_rate: float | None = strawberry.field(description="expiredOrders / endedOrders.")
    declined_charges: int
    charge_attempts: int = strawberry.field(
        description="Payments that ended in the range: declined, or succeeded."
    )
    decline_rate: float | None = strawberry.field(description="declinedCharges / chargeAttempts.")
    top_sellers: list[TopSeller] = strawberry.field(
        description="By revenue in the range, then by tickets sold."
    )
    price_distribution: list[PriceBucket]

    @classmethod
    def from_proto(cls, r: insights_pb2.MarketReport) -> MarketReport:
        return cls(
            from_day=_day(r.from_day),
            to_day=_day(r.to_day),
            totals=MarketFigures.from_proto(r.totals),
            days=[MarketDay(day=_day(d.day), figures=MarketFigures.from_proto(d)) for d in r.days],
            funnel=Funnel.from_proto(r.funnel),
            expired_orders=r.expired_orders,
            ended_orders=r.ended_orders,
            expiry_rate=_fraction(r.expired_orders, r.ended_orders),
            declined_charges=r.declined_charges,
            charge_attempts=r.charge_attempts,
            decline_rate=_fraction(r.declined_charges, r.charge_attempts),
            top_sellers=[
                TopSeller(
                    seller_id=strawberry.ID(s.seller_id), revenue=PyDecimal(s.revenue), sold=s.sold
                )
                for s in r.top_sellers
            ],
            price_distribution=[
                PriceBucket(
                    lower=PyDecimal(b.lower),
                    upper=PyDecimal(b.upper) if b.upper else None,
                    listed=b.count,
                    sold=b.sold,
                )
                for b in r.price_distribution
            ],
        )
