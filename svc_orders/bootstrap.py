"""Wires the orders service."""

from __future__ import annotations

from datetime import timedelta

from common.grpc_client import ServiceChannel
from common.grpc_server import GrpcServer
from common.service import Infrastructure, ServiceProcess
from svc_orders.adapters.repository import ensure_indexes
from svc_orders.adapters.tickets_client import GrpcSeatHolder
from svc_orders.adapters.unit_of_work import MongoOrdersUnitOfWork
from svc_orders.config import OrdersSettings
from svc_orders.entrypoints.access import ACCESS
from svc_orders.entrypoints.expiry_sweep import ExpirySweep
from svc_orders.entrypoints.grpc_api import OrdersServicer
from svc_orders.service_layer.called_off import EventCallOff
from svc_orders.service_layer.expiry import OrderExpiry
from svc_orders.service_layer.handlers import OrderHandlers
from ticketing.events.v1 import catalogue_pb2
from ticketing.orders.v1 import orders_pb2, orders_pb2_grpc

NAME = "orders"


def bootstrap(settings: OrdersSettings) -> ServiceProcess:
    infra = Infrastructure.from_settings(NAME, settings)
    tickets = ServiceChannel(
        settings.addr_of("tickets"), identity=infra.service_tokens(), audience="tickets"
    )
    handlers = OrderHandlers(
        uow=infra.unit_of_work(MongoOrdersUnitOfWork),
        clock=infra.clock,
        hold_for=timedelta(seconds=settings.order_expiration_seconds),
        tickets=GrpcSeatHolder(tickets),
    )
    server = GrpcServer(
        infra.verifier,
        settings.shutdown_grace_seconds,
        settings.grpc_max_connection_age_seconds,
        services=infra.services,
    )
    server.add(
        orders_pb2_grpc.add_OrdersServiceServicer_to_server,
        OrdersServicer(handlers),
        orders_pb2.DESCRIPTOR.services_by_name["OrdersService"].full_name,
        ACCESS,
    )
    call_off = EventCallOff(infra.unit_of_work(MongoOrdersUnitOfWork), infra.clock)
    consumer = infra.consumer(
        {
            **handlers.event_handlers,
            catalogue_pb2.EventStatusChanged: call_off.on_event_status_changed,
        }
    )
    expiry = OrderExpiry(
        uow=infra.unit_of_work(MongoOrdersUnitOfWork),
        clock=infra.clock,
        grace=timedelta(seconds=settings.order_expiry_grace_seconds),
    )
    return ServiceProcess(
        NAME,
        server,
        infra,
        consumers=[consumer],
        loops=[ExpirySweep(expiry, period_seconds=settings.order_expiry_sweep_seconds).run],
        on_start=[lambda: ensure_indexes(infra.db)],
        on_stop=[tickets.close],
    )
