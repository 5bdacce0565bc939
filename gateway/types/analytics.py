"""The analytics reports as GraphQL types, built from insights' messages. Days are `Date`s
(UTC); money is per currency (`[Money!]!`, one entry per currency with any, in code order: never
added across currencies); a rate or conversion is a fraction between 0 and 1, null when there
was nothing to divide (no view, no order that ended).

Everything in a report comes in insights' one reply, which the report's own weight covers: these
types cost 0 (COST-1)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from common.errors import InvalidInput
from common.pagination import MAX_PAGE_SIZE
from gateway.context import Info
from gateway.cost import Cost
from gateway.types.common import Money, list_size, money_list
from gateway.types.tickets import Ticket
from gateway.types.user import User
from ticketing.insights.v1 import insights_pb2

FREE = [Cost(weight=0)]
DEFAULT_TOP = 10


def report_day(text: str) -> date:
    return date.fromisoformat(text)


def fraction_of(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _top(first: int | None) -> int:
    if first is None:
        return DEFAULT_TOP
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE_SIZE}", field="first")
    return first


TopFirst = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many: 1 to {MAX_PAGE_SIZE} (BAD_USER_INPUT otherwise); null means "
        f"{DEFAULT_TOP}."
    ),
]

_EVERY_DAY = "Every day of the range, oldest first (at most 366); a day with nothing has zeros."
_PER_CURRENCY = "one entry per currency with any, in code order; empty when none"


@strawberry.type(description="A seller's figures over a day or a range of days.", directives=FREE)
class SellerFigures:
    listed: int = strawberry.field(description="Tickets the seller listed.")
    sold: int = strawberry.field(description="Tickets of the seller's paid for.")
    expired_unpaid: int = strawberry.field(
        description="Orders on the seller's tickets cancelled because they expired unpaid."
    )
    revenue: list[Money] = strawberry.field(
        description=f"What buyers paid for the tickets sold, {_PER_CURRENCY}.",
        directives=[list_size(assumed_size=3)],
    )
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
            revenue=money_list(d.revenue_by_currency),
            median_seconds_to_sell=(
                d.median_seconds_to_sell if d.HasField("median_seconds_to_sell") else None
            ),
            views=d.views,
        )


@strawberry.type(description="A seller's figures on one UTC day.", directives=FREE)
class SellerDay:
    day: date = strawberry.field(description="The UTC day.")
    figures: SellerFigures = strawberry.field(description="The seller's figures that day.")


@strawberry.type(
    description="One of the seller's tickets and its views in the range.", directives=FREE
)
class TicketViews:
    views: int = strawberry.field(description="Views of the ticket in the range.")
    ticket_id: strawberry.Private[str]

    @strawberry.field(
        description="The ticket, as it is now; null with an error when tickets cannot be reached.",
        directives=[Cost(weight=1)],
    )
    async def ticket(self, info: Info) -> Ticket | None:
        found = await info.context.tickets.load(self.ticket_id)
        return Ticket.from_proto(found) if found is not None else None


@strawberry.type(
    description="The signed-in seller's own figures, per UTC day and in total.", directives=FREE
)
class SellerReport:
    from_day: date = strawberry.field(name="from", description="The first UTC day of the range.")
    to_day: date = strawberry.field(name="to", description="The last UTC day, included.")
    totals: SellerFigures = strawberry.field(description="The figures over the whole range.")
    days: list[SellerDay] = strawberry.field(
        description=_EVERY_DAY, directives=[list_size(assumed_size=366)]
    )
    ticket_views: strawberry.Private[list[TicketViews]]

    @strawberry.field(
        description="The seller's tickets listed by the end of the range, most viewed in it "
        f"first; first: 1-{MAX_PAGE_SIZE}, default {DEFAULT_TOP} (a top-N: no next page).",
        directives=[list_size(slicing_arguments=["first"])],
    )
    def most_viewed_tickets(self, first: TopFirst = DEFAULT_TOP) -> list[TicketViews]:
        return self.ticket_views[: _top(first)]

    @classmethod
    def from_proto(cls, r: insights_pb2.SellerReport) -> SellerReport:
        return cls(
            from_day=report_day(r.from_day),
            to_day=report_day(r.to_day),
            totals=SellerFigures.from_proto(r.totals),
            days=[
                SellerDay(day=report_day(d.day), figures=SellerFigures.from_proto(d))
                for d in r.days
            ],
            ticket_views=[
                TicketViews(ticket_id=t.ticket_id, views=t.views) for t in r.ticket_views
            ],
        )


@strawberry.type(description="The marketplace over a day or a range of days.", directives=FREE)
class MarketFigures:
    gmv: list[Money] = strawberry.field(
        description=f"What buyers paid (orders paid), {_PER_CURRENCY}.",
        directives=[list_size(assumed_size=3)],
    )
    orders: int = strawberry.field(description="Orders placed.")
    paid_orders: int = strawberry.field(description="Orders paid.")
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
            gmv=money_list(d.gmv_by_currency),
            orders=d.orders,
            paid_orders=d.paid_orders,
            active_users=d.active_users,
            anonymous_users=d.anonymous_users,
        )


@strawberry.type(description="The marketplace on one UTC day.", directives=FREE)
class MarketDay:
    day: date = strawberry.field(description="The UTC day.")
    figures: MarketFigures = strawberry.field(description="The marketplace's figures that day.")


@strawberry.type(
    description="Distinct visitors who viewed a ticket in the range; of them, those who also "
    "started or placed an order; of those, the ones who also paid one.",
    directives=FREE,
)
class Funnel:
    viewed: int = strawberry.field(description="Visitors who viewed a ticket.")
    ordered: int = strawberry.field(description="Of them, those who started or placed an order.")
    paid: int = strawberry.field(description="Of those, the ones who paid one.")
    view_to_order: float | None = strawberry.field(
        description="ordered / viewed; null when none viewed."
    )
    order_to_paid: float | None = strawberry.field(
        description="paid / ordered; null when none ordered."
    )
    view_to_paid: float | None = strawberry.field(
        description="paid / viewed; null when none viewed."
    )

    @classmethod
    def from_proto(cls, f: insights_pb2.Funnel) -> Funnel:
        return cls(
            viewed=f.viewed,
            ordered=f.ordered,
            paid=f.paid,
            view_to_order=fraction_of(f.ordered, f.viewed),
            order_to_paid=fraction_of(f.paid, f.ordered),
            view_to_paid=fraction_of(f.paid, f.viewed),
        )


@strawberry.type(description="A seller among the range's best.", directives=FREE)
class TopSeller:
    revenue: list[Money] = strawberry.field(
        description=f"What buyers paid the seller in the range, {_PER_CURRENCY}.",
        directives=[list_size(assumed_size=3)],
    )
    sold: int = strawberry.field(description="Tickets of the seller's paid in the range.")
    seller_id: strawberry.Private[str]

    @strawberry.field(description="The seller (a public profile); never null today.")
    def seller(self) -> User | None:
        return User.of(self.seller_id)


@strawberry.type(
    description="Prices of one currency in [lower, upper); upper is null for the currency's last "
    "bucket.",
    directives=FREE,
)
class PriceBucket:
    lower: Money = strawberry.field(description="The lowest price in the bucket, included.")
    upper: Money | None = strawberry.field(
        description="The price the bucket ends before; null for the last, open bucket."
    )
    listed: int = strawberry.field(description="Tickets listed in the range at such a price.")
    sold: int = strawberry.field(description="Orders paid in the range at such a price.")


@strawberry.type(description="The whole marketplace, for operators.", directives=FREE)
class MarketReport:
    from_day: date = strawberry.field(name="from", description="The first UTC day of the range.")
    to_day: date = strawberry.field(name="to", description="The last UTC day, included.")
    totals: MarketFigures = strawberry.field(description="The figures over the whole range.")
    days: list[MarketDay] = strawberry.field(
        description=_EVERY_DAY, directives=[list_size(assumed_size=366)]
    )
    funnel: Funnel = strawberry.field(description="The purchase funnel over the range.")
    expired_orders: int = strawberry.field(
        description="Orders cancelled in the range because they expired unpaid."
    )
    ended_orders: int = strawberry.field(
        description="Orders that ended in the range: paid, or cancelled for any reason."
    )
    expiry_rate: float | None = strawberry.field(
        description="expiredOrders / endedOrders; null when none ended."
    )
    declined_charges: int = strawberry.field(description="Charges declined in the range.")
    charge_attempts: int = strawberry.field(
        description="Payments that ended in the range: declined, or succeeded."
    )
    decline_rate: float | None = strawberry.field(
        description="declinedCharges / chargeAttempts; null when none was attempted."
    )
    price_distribution: list[PriceBucket] = strawberry.field(
        description="Listings and sales by price, in fixed buckets per currency (at most 30).",
        directives=[list_size(assumed_size=30)],
    )
    sellers: strawberry.Private[list[TopSeller]]

    @strawberry.field(
        description="The range's best sellers: by tickets sold, then revenue; first: "
        f"1-{MAX_PAGE_SIZE}, default {DEFAULT_TOP} (a top-N: no next page).",
        directives=[list_size(slicing_arguments=["first"])],
    )
    def top_sellers(self, first: TopFirst = DEFAULT_TOP) -> list[TopSeller]:
        return self.sellers[: _top(first)]

    @classmethod
    def from_proto(cls, r: insights_pb2.MarketReport) -> MarketReport:
        return cls(
            from_day=report_day(r.from_day),
            to_day=report_day(r.to_day),
            totals=MarketFigures.from_proto(r.totals),
            days=[
                MarketDay(day=report_day(d.day), figures=MarketFigures.from_proto(d))
                for d in r.days
            ],
            funnel=Funnel.from_proto(r.funnel),
            expired_orders=r.expired_orders,
            ended_orders=r.ended_orders,
            expiry_rate=fraction_of(r.expired_orders, r.ended_orders),
            declined_charges=r.declined_charges,
            charge_attempts=r.charge_attempts,
            decline_rate=fraction_of(r.declined_charges, r.charge_attempts),
            sellers=[
                TopSeller(
                    seller_id=s.seller_id, revenue=money_list(s.revenue_by_currency), sold=s.sold
                )
                for s in r.top_sellers
            ],
            price_distribution=[
                PriceBucket(
                    lower=Money.of(b.lower, b.currency_code),
                    upper=Money.of(b.upper, b.currency_code) if b.upper else None,
                    listed=b.count,
                    sold=b.sold,
                )
                for b in r.price_distribution
            ],
        )
