"""Wires the tickets service."""

from __future__ import annotations

from common.grpc_server import GrpcServer
from common.service import Infrastructure, ServiceProcess
from svc_tickets.adapters.repository import ensure_indexes
from svc_tickets.adapters.unit_of_work import MongoTicketsUnitOfWork
from svc_tickets.config import TicketsSettings
from svc_tickets.entrypoints.access import ACCESS
from svc_tickets.entrypoints.grpc_api import TicketsServicer
from svc_tickets.service_layer.handlers import TicketHandlers
from svc_tickets.service_layer.sales_windows import SalesWindowHandlers
from ticketing.events.v1 import catalogue_pb2, orders_pb2
from ticketing.tickets.v1 import tickets_pb2, tickets_pb2_grpc

NAME = "tickets"


def bootstrap(settings: TicketsSettings) -> ServiceProcess:
    infra = Infrastructure.from_settings(NAME, settings)
    uow = infra.unit_of_work(MongoTicketsUnitOfWork)
    handlers = TicketHandlers(uow=uow, clock=infra.clock, terms=settings.delivery_terms())
    windows = SalesWindowHandlers(uow)
    server = GrpcServer(
        infra.verifier,
        settings.shutdown_grace_seconds,
        settings.grpc_max_connection_age_seconds,
        services=infra.services,
    )
    server.add(
        tickets_pb2_grpc.add_TicketsServiceServicer_to_server,
        TicketsServicer(handlers),
        tickets_pb2.DESCRIPTOR.services_by_name["TicketsService"].full_name,
        ACCESS,
    )
    consumer = infra.consumer(
        {
            orders_pb2.OrderCancelled: handlers.on_order_cancelled,
            orders_pb2.OrderUpdated: handlers.on_order_updated,
            catalogue_pb2.EventChanged: windows.on_event_changed,
            catalogue_pb2.EventStatusChanged: windows.on_event_status_changed,
        }
    )
    return ServiceProcess(
        NAME,
        server,
        infra,
        consumers=[consumer],
        on_start=[lambda: ensure_indexes(infra.db)],
    )
