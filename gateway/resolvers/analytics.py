"""The analytics reports: a seller's own, and the marketplace's for operators. Each is one call
to the insights service on the caller's behalf (it checks who may read what too)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from gateway.context import Info, require_admin
from gateway.cost import Cost
from gateway.types.analytics import MarketReport, SellerReport
from ticketing.insights.v1 import insights_pb2

# Reports rank at most this many top sellers; the field slices what it is asked.
MAX_TOP_SELLERS = 100

From = Annotated[
    date,
    strawberry.argument(
        name="from",
        description="The first UTC day, 0001-01-01 to 9999-12-30 (BAD_USER_INPUT otherwise).",
    ),
]
To = Annotated[
    date,
    strawberry.argument(
        description="The last UTC day, included: not before from, at most 366 days after it "
        "(BAD_USER_INPUT otherwise)."
    ),
]


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(
        description="The signed-in seller's own figures, per day and in total. UNAUTHENTICATED "
        "when signed out; BAD_USER_INPUT for a range out of bounds.",
        directives=[Cost(weight=100)],
    )
    async def seller_report(self, info: Info, from_: From, to: To) -> SellerReport | None:
        request = insights_pb2.GetSellerReportRequest(
            from_day=from_.isoformat(), to_day=to.isoformat()
        )
        reply = await info.context.call(info.context.clients.insights.GetSellerReport, request)
        return SellerReport.from_proto(reply.report)

    @strawberry.field(
        description="The whole marketplace's figures: operators (admin role) only, FORBIDDEN "
        "otherwise; UNAUTHENTICATED when signed out; BAD_USER_INPUT for a range out of bounds.",
        directives=[Cost(weight=200)],
    )
    async def market_report(self, info: Info, from_: From, to: To) -> MarketReport | None:
        await require_admin(info)
        request = insights_pb2.GetMarketReportRequest(
            from_day=from_.isoformat(), to_day=to.isoformat(), top_sellers_limit=MAX_TOP_SELLERS
        )
        reply = await info.context.call(info.context.clients.insights.GetMarketReport, request)
        return MarketReport.from_proto(reply.report)
