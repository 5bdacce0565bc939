"""Wires the insights service: no MongoDB, no outbox; its own DuckDB file for every event."""

from __future__ import annotations

from common.clock import Clock
from common.grpc_server import GrpcServer
from common.service import Infrastructure, ServiceProcess
from svc_insights.adapters.duckdb_store import DuckDBEventStore
from svc_insights.adapters.event_interactions import DuckDBEventInteractions
from svc_insights.adapters.event_reports import DuckDBEventReports
from svc_insights.adapters.interactions import DuckDBInteractions
from svc_insights.adapters.report_tables import ReportTables
from svc_insights.adapters.reports import DuckDBReports
from svc_insights.config import InsightsSettings
from svc_insights.entrypoints.access import ACCESS
from svc_insights.entrypoints.events import event_handlers
from svc_insights.entrypoints.grpc_api import InsightsServicer
from svc_insights.service_layer.event_recommendations import EventRecommendations
from svc_insights.service_layer.event_reports import EventReportHandlers
from svc_insights.service_layer.handlers import InsightsHandlers
from svc_insights.service_layer.recommendations import Recommendations
from svc_insights.service_layer.reports import ReportHandlers
from ticketing.insights.v1 import insights_pb2, insights_pb2_grpc

NAME = "insights"


def bootstrap(settings: InsightsSettings, clock: Clock | None = None) -> ServiceProcess:
    infra = Infrastructure.from_settings(NAME, settings, clock=clock, with_database=False)
    store = DuckDBEventStore(
        settings.insights_db_path,
        memory_mb=settings.insights_db_memory_mb,
        derived=[ReportTables()],
    )
    handlers = InsightsHandlers(store)
    recommendations = Recommendations(DuckDBInteractions(store), infra.clock)
    event_recommendations = EventRecommendations(DuckDBEventInteractions(store), infra.clock)
    server = GrpcServer(
        infra.verifier,
        settings.shutdown_grace_seconds,
        settings.grpc_max_connection_age_seconds,
        services=infra.services,
    )
    server.add(
        insights_pb2_grpc.add_InsightsServiceServicer_to_server,
        InsightsServicer(
            handlers,
            recommendations,
            reports=ReportHandlers(DuckDBReports(store)),
            event_recommendations=event_recommendations,
            event_reports=EventReportHandlers(DuckDBEventReports(store)),
        ),
        insights_pb2.DESCRIPTOR.services_by_name["InsightsService"].full_name,
        ACCESS,
    )
    consumer = infra.consumer(event_handlers(handlers, infra.clock))
    return ServiceProcess(
        NAME,
        server,
        infra,
        consumers=[consumer],
        # The store opens before the consumer takes an event and closes after it stopped.
        # The first model is trained before the server answers.
        on_start=[store.start, recommendations.retrain, event_recommendations.retrain],
        loops=[
            lambda: recommendations.run(settings.insights_retrain_seconds),
            lambda: event_recommendations.run(settings.insights_retrain_seconds),
        ],
        on_stop=[store.close],
    )
