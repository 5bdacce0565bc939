"""An event's report for operators: one call to insights (GetEventReport) on the caller's behalf,
as the market report. Its types cost 0: everything comes in insights' one reply (COST-1)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from gateway import global_ids
from gateway.context import Info, require_admin
from gateway.cost import Cost
from gateway.resolvers.analytics import From, To
from gateway.types.analytics import FREE, fraction_of, report_day
from gateway.types.common import Money, list_size, money_list
from gateway.types.user import User
from ticketing.insights.v1 import insights_pb2

_PER_CURRENCY = "one entry per currency with any, in code order; empty when none"


@strawberry.type(
    description="People at each step from an event's page to a paid order in the range, each "
    "step counting only people of the step before (a visitor's anonymous views count for the "
    "account they signed in to).",
    directives=FREE,
)
class EventFunnel:
    viewed_event: int = strawberry.field(description="People who viewed the event's page.")
    viewed_listing: int = strawberry.field(description="Of those, who viewed one of its listings.")
    ordered: int = strawberry.field(description="Of those, who placed an order on one.")
    paid: int = strawberry.field(description="Of those, who paid an order on one.")
    paid_per_viewed_event: float | None = strawberry.field(
        description="paid / viewedEvent; null when nobody viewed the page."
    )


@strawberry.type(description="What one listing of the event did in the range.", directives=FREE)
class EventListingFigures:
    listing_id: strawberry.ID = strawberry.field(description="The listing's id.")
    views: int = strawberry.field(description="Views of the listing.")
    orders_placed: int = strawberry.field(description="Orders placed on it in the range.")
    orders_paid: int = strawberry.field(description="Orders on it paid in the range.")
    seats_sold: int = strawberry.field(description="Seats of those paid orders.")
    revenue: list[Money] = strawberry.field(
        description=f"What those orders paid, {_PER_CURRENCY}.",
        directives=[list_size(assumed_size=3)],
    )
    seller_id: strawberry.Private[str]

    @strawberry.field(description="The listing's seller (a public profile); never null today.")
    def seller(self) -> User | None:
        return User.of(self.seller_id)


@strawberry.type(description="One event's figures over a range of days.", directives=FREE)
class EventReport:
    from_day: date = strawberry.field(name="from", description="The first UTC day of the range.")
    to_day: date = strawberry.field(name="to", description="The last UTC day, included.")
    event_views: int = strawberry.field(description="Views of the event's page.")
    listing_views: int = strawberry.field(description="Views of its listings.")
    orders_placed: int = strawberry.field(description="Orders placed on its listings.")
    orders_paid: int = strawberry.field(
        description="Orders on its listings paid in the range (placed in it or before)."
    )
    seats_sold: int = strawberry.field(description="Seats of the paid orders.")
    revenue: list[Money] = strawberry.field(
        description=f"What the paid orders paid, {_PER_CURRENCY}.",
        directives=[list_size(assumed_size=3)],
    )
    funnel: EventFunnel = strawberry.field(description="From the event's page to a paid order.")
    listings: list[EventListingFigures] = strawberry.field(
        description="Its listings, most seats sold first, then most viewed (at most 1,000).",
        directives=[list_size(assumed_size=1000)],
    )

    @classmethod
    def from_proto(cls, r: insights_pb2.EventReport) -> EventReport:
        f = r.funnel
        return cls(
            from_day=report_day(r.from_day),
            to_day=report_day(r.to_day),
            event_views=r.event_views,
            listing_views=r.listing_views,
            orders_placed=r.orders_placed,
            orders_paid=r.orders_paid,
            seats_sold=r.seats_sold,
            revenue=money_list(r.revenue),
            funnel=EventFunnel(
                viewed_event=f.viewed_event,
                viewed_listing=f.viewed_listing,
                ordered=f.ordered,
                paid=f.paid,
                paid_per_viewed_event=fraction_of(f.paid, f.viewed_event),
            ),
            listings=[
                EventListingFigures(
                    listing_id=strawberry.ID(global_ids.encode("Listing", x.ticket_id)),
                    views=x.views,
                    orders_placed=x.orders_placed,
                    orders_paid=x.orders_paid,
                    seats_sold=x.seats_sold,
                    revenue=money_list(x.revenue),
                    seller_id=x.seller_id,
                )
                for x in r.listings[:1000]
            ],
        )


@strawberry.type
class EventReportQuery:
    @strawberry.field(
        description="One event's figures (views of its page and listings, orders, seats sold, "
        "revenue, per listing) and its funnel from page to payment: operators (admin role) "
        "only, FORBIDDEN otherwise; UNAUTHENTICATED when signed out; BAD_USER_INPUT for a "
        "range out of bounds; NOT_FOUND for an id that does not decode. An event nobody looked "
        "at has zeros.",
        directives=[Cost(weight=100)],
    )
    async def event_report(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The event's id.")],
        from_: From,
        to: To,
    ) -> EventReport | None:
        await require_admin(info)
        request = insights_pb2.GetEventReportRequest(
            event_id=global_ids.decode(id, "Event"),
            from_day=from_.isoformat(),
            to_day=to.isoformat(),
        )
        reply = await info.context.call(info.context.clients.insights.GetEventReport, request)
        return EventReport.from_proto(reply.report)
