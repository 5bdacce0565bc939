"""gRPC InsightsService: requests to handler calls, results to messages."""

from __future__ import annotations

import grpc

from svc_insights.service_layer.handlers import InsightsHandlers
from ticketing.insights.v1 import insights_pb2, insights_pb2_grpc


class InsightsServicer(insights_pb2_grpc.InsightsServiceServicer):
    def __init__(self, handlers: InsightsHandlers) -> None:
        self.handlers = handlers

    async def GetEventCounts(self, request, context):
        counts = await self.handlers.event_counts(
            ticket_id=request.ticket_id or None, order_id=request.order_id or None
        )
        return insights_pb2.GetEventCountsResponse(counts=counts, total=sum(counts.values()))

    async def GetSellerReport(self, request, context):
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "GetSellerReport is not built yet")

    async def GetMarketReport(self, request, context):
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "GetMarketReport is not built yet")

    async def RecommendTickets(self, request, context):
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "RecommendTickets is not built yet")

    async def SimilarTickets(self, request, context):
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "SimilarTickets is not built yet")
