"""The analytics reports: a seller's own, and the marketplace's for operators. Each is one call
to the insights service on the caller's behalf (it checks who may read what too)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from common.errors import InvalidInput
from gateway.context import Info, require_admin
from gateway.types.analytics import MarketReport, SellerReport
from ticketing.insights.v1 import insights_pb2

MAX_TOP_SELLERS = 100  # as insights allows

From = Annotated[date, strawberry.argument(name="from", description="The first UTC day.")]
To = Annotated[
    date,
    strawberry.argument(description="The last UTC day, included; at most 366 days after from."),
]


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(description="The signed-in seller's own figures, per day and in total.")
    async def seller_report(self, info: Info, from_: From, to: To) -> SellerReport:
        request = insights_pb2.GetSellerReportRequest(
            from_day=from_.isoformat(), to_day=to.isoformat()
        )
        reply = await info.context.call(info.context.clients.insights.GetSellerReport, request)
        return SellerReport.from_proto(reply.report)

    @strawberry.field(description="The whole marketplace's figures: operators (admin) only.")
    async def market_report(
        self,
        info: Info,
        from_: From,
        to: To,
        top_sellers: Annotated[
            int, strawberry.argument(description="How many top sellers (1-100).")
        ] = 10,
    ) -> MarketReport:
        await require_admin(info)
        if not 1 <= top_sellers <= MAX_TOP_SELLERS:
            raise InvalidInput(
                f"topSellers must be between 1 and {MAX_TOP_SELLERS}", field="topSellers"
            )
        request = insights_pb2.GetMarketReportRequest(
            from_day=from_.isoformat(), to_day=to.isoformat(), top_sellers_limit=top_sellers
        )
        reply = await info.context.call(info.context.clients.insights.GetMarketReport, request)
        return MarketReport.from_proto(reply.report)
