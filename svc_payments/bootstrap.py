"""Wires the payments service: the one place real adapters are chosen (unit tests pass fakes to
`PaymentHandlers` directly; integration tests may pass another Stripe gateway)."""

from __future__ import annotations

from datetime import timedelta

from common.grpc_client import ServiceChannel
from common.grpc_server import GrpcServer
from common.service import Infrastructure, ServiceProcess
from svc_payments.adapters.orders_client import GrpcOrderSource
from svc_payments.adapters.repository import ensure_indexes
from svc_payments.adapters.stripe_disputes import StripeDisputesApi
from svc_payments.adapters.stripe_gateway import StripeApi
from svc_payments.adapters.unit_of_work import MongoPaymentsUnitOfWork
from svc_payments.config import PaymentsSettings
from svc_payments.entrypoints.access import ACCESS
from svc_payments.entrypoints.grpc_api import PaymentsServicer
from svc_payments.service_layer.disputes import DisputeHandlers
from svc_payments.service_layer.handlers import PaymentHandlers
from svc_payments.service_layer.ports import StripeDisputes, StripeGateway
from ticketing.payments.v1 import payments_pb2, payments_pb2_grpc

NAME = "payments"


def charge_lease(settings: PaymentsSettings) -> timedelta:
    """Long enough for a charge and a refund to time out, so a lease never runs out under a
    request still talking to Stripe."""
    return timedelta(seconds=2 * settings.stripe_timeout_seconds + 5)


def bootstrap(
    settings: PaymentsSettings,
    stripe: StripeGateway | None = None,
    stripe_disputes: StripeDisputes | None = None,
) -> ServiceProcess:
    infra = Infrastructure.from_settings(NAME, settings)
    if stripe is None or stripe_disputes is None:
        api = StripeApi(
            settings.secret_key(), settings.stripe_api_base, settings.stripe_timeout_seconds
        )
        stripe = stripe or api
        stripe_disputes = stripe_disputes or StripeDisputesApi(api)
    orders = ServiceChannel(
        settings.addr_of("orders"), identity=infra.service_tokens(), audience="orders"
    )
    handlers = PaymentHandlers(
        uow=infra.unit_of_work(MongoPaymentsUnitOfWork),
        stripe=stripe,
        orders=GrpcOrderSource(orders),
        clock=infra.clock,
        lease_for=charge_lease(settings),
    )
    server = GrpcServer(
        infra.verifier,
        settings.shutdown_grace_seconds,
        settings.grpc_max_connection_age_seconds,
        services=infra.services,
    )
    server.add(
        payments_pb2_grpc.add_PaymentsServiceServicer_to_server,
        PaymentsServicer(handlers, DisputeHandlers(handlers.uow, stripe_disputes, infra.clock)),
        payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name,
        ACCESS,
    )
    consumer = infra.consumer(handlers.event_handlers)
    return ServiceProcess(
        NAME,
        server,
        infra,
        consumers=[consumer],
        on_start=[lambda: ensure_indexes(infra.db)],
        on_stop=[orders.close],
    )
