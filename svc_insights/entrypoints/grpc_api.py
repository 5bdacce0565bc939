"""gRPC InsightsService: requests to handler calls, results to messages."""

from __future__ import annotations

from common.errors import Forbidden
from common.grpc_server import current_user
from svc_insights.entrypoints.reports_proto import (
    day_of,
    event_report_to_proto,
    market_report_to_proto,
    reader_of,
    seller_report_to_proto,
)
from svc_insights.service_layer.event_recommendations import EventRecommendations
from svc_insights.service_layer.event_reports import EventReportHandlers, GetEventReport
from svc_insights.service_layer.handlers import InsightsHandlers
from svc_insights.service_layer.recommendations import Recommendations
from svc_insights.service_layer.reports import GetMarketReport, GetSellerReport, ReportHandlers
from ticketing.insights.v1 import insights_pb2, insights_pb2_grpc


def _own(user_id: str) -> str | None:
    """The user a ranking is for: none (an anonymous visitor), or the caller's own token's."""
    if not user_id:
        return None
    if current_user().user_id != user_id:
        raise Forbidden("Recommendations are for the signed-in user's own token only")
    return user_id


class InsightsServicer(insights_pb2_grpc.InsightsServiceServicer):
    def __init__(
        self,
        handlers: InsightsHandlers,
        recommendations: Recommendations,
        *,
        reports: ReportHandlers,
        event_recommendations: EventRecommendations,
        event_reports: EventReportHandlers,
    ) -> None:
        self.handlers = handlers
        self.recommendations = recommendations
        self.reports = reports
        self.event_recommendations = event_recommendations
        self.event_reports = event_reports

    async def GetEventCounts(self, request, context):
        counts = await self.handlers.event_counts(
            ticket_id=request.ticket_id or None, order_id=request.order_id or None
        )
        return insights_pb2.GetEventCountsResponse(counts=counts, total=sum(counts.values()))

    async def GetSellerReport(self, request, context):
        report = await self.reports.seller_report(
            GetSellerReport(
                reader_of(current_user()),
                request.seller_id,
                day_of(request.from_day, "from_day"),
                day_of(request.to_day, "to_day"),
            )
        )
        return insights_pb2.GetSellerReportResponse(report=seller_report_to_proto(report))

    async def GetMarketReport(self, request, context):
        report = await self.reports.market_report(
            GetMarketReport(
                reader_of(current_user()),
                day_of(request.from_day, "from_day"),
                day_of(request.to_day, "to_day"),
                request.top_sellers_limit,
            )
        )
        return insights_pb2.GetMarketReportResponse(report=market_report_to_proto(report))

    async def RecommendTickets(self, request, context):
        ranked = await self.recommendations.recommend(
            _own(request.user_id), request.anonymous_id or None, request.first
        )
        return insights_pb2.RecommendTicketsResponse(
            ticket_ids=ranked.ticket_ids, model_version=ranked.model_version
        )

    async def SimilarTickets(self, request, context):
        ranked = await self.recommendations.similar(
            request.ticket_id, _own(request.user_id), request.first
        )
        return insights_pb2.SimilarTicketsResponse(
            ticket_ids=ranked.ticket_ids, model_version=ranked.model_version
        )

    async def RecommendEvents(self, request, context):
        ranked = await self.event_recommendations.recommend(
            _own(request.user_id), request.anonymous_id or None, request.first
        )
        return insights_pb2.RecommendEventsResponse(
            event_ids=ranked.event_ids, model_version=ranked.model_version
        )

    async def SimilarEvents(self, request, context):
        ranked = await self.event_recommendations.similar(request.event_id, request.first)
        return insights_pb2.SimilarEventsResponse(
            event_ids=ranked.event_ids, model_version=ranked.model_version
        )

    async def GetEventReport(self, request, context):
        report = await self.event_reports.event_report(
            GetEventReport(
                reader_of(current_user()),
                request.event_id,
                day_of(request.from_day, "from_day"),
                day_of(request.to_day, "to_day"),
            )
        )
        return insights_pb2.GetEventReportResponse(report=event_report_to_proto(report))
