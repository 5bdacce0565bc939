"""Wires the delivery service: the one place real adapters are chosen (unit tests pass fakes to
the handlers directly)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from common.grpc_server import GrpcServer
from common.service import Infrastructure, ServiceProcess
from svc_delivery.adapters import signing_keys
from svc_delivery.adapters.entry_store import MongoEntryUnitOfWork, ensure_entry_indexes
from svc_delivery.adapters.pass_repository import ensure_pass_indexes
from svc_delivery.adapters.repository import ensure_indexes
from svc_delivery.adapters.signing_keys import check_signature
from svc_delivery.adapters.ticket_ring import DirectoryKeyRing
from svc_delivery.adapters.unit_of_work import MongoDeliveryUnitOfWork
from svc_delivery.config import DeliverySettings
from svc_delivery.entrypoints.access import ACCESS
from svc_delivery.entrypoints.consumers import OrderEventConsumer
from svc_delivery.entrypoints.deadline_sweep import DeadlineSweepTimer
from svc_delivery.entrypoints.grpc_api import DeliveryServicer
from svc_delivery.service_layer.entry import EntryHandlers
from svc_delivery.service_layer.handlers import DeliveryHandlers
from svc_delivery.service_layer.order_events import OrderEvents
from svc_delivery.service_layer.passes import PassHandlers
from svc_delivery.service_layer.sweep import DeadlineSweep
from ticketing.delivery.v1 import delivery_pb2, delivery_pb2_grpc

NAME = "delivery"

# An OrderCreated from before issue 22 carries no deadline (tickets fixes one at every hold
# since): the seller has this long from when it is applied, as tickets' default for a listing
# without an event (DELIVERY_DEADLINE_NO_EVENT_SECONDS).
DEADLINE_WITHOUT_TERMS = timedelta(hours=48)


def bootstrap(settings: DeliverySettings) -> ServiceProcess:
    keys_dir = Path(settings.require_ticket_keys_dir())
    infra = Infrastructure.from_settings(NAME, settings)
    private_dir = settings.ticket_private_keys_dir
    signer = signing_keys.load(
        keys_dir, infra.clock.now(), Path(private_dir) if private_dir else None
    )
    assert infra.db is not None
    db = infra.db
    uow = infra.unit_of_work(MongoDeliveryUnitOfWork)
    remind_before = timedelta(seconds=settings.delivery_reminder_before_seconds)
    handlers = DeliveryHandlers(uow, infra.clock, settings.delivery_max_file_bytes)
    orders = OrderEvents(uow, infra.clock, remind_before, DEADLINE_WITHOUT_TERMS)
    sweep = DeadlineSweep(uow, infra.clock, remind_before)
    entry = EntryHandlers(
        infra.unit_of_work(MongoEntryUnitOfWork),
        DirectoryKeyRing(settings.ticket_keys_dir),
        check_signature,
        infra.clock,
    )
    server = GrpcServer(
        infra.verifier,
        settings.shutdown_grace_seconds,
        settings.grpc_max_connection_age_seconds,
        services=infra.services,
        max_message_bytes=settings.delivery_max_request_bytes,
    )
    server.add(
        delivery_pb2_grpc.add_DeliveryServiceServicer_to_server,
        DeliveryServicer(handlers, PassHandlers(uow, infra.clock, signer), entry),
        delivery_pb2.DESCRIPTOR.services_by_name["DeliveryService"].full_name,
        ACCESS,
    )
    consumer = infra.consumer(OrderEventConsumer(orders).event_handlers)
    return ServiceProcess(
        NAME,
        server,
        infra,
        consumers=[consumer],
        loops=[DeadlineSweepTimer(sweep, settings.delivery_sweep_seconds).run],
        on_start=[
            lambda: ensure_indexes(db),
            lambda: ensure_pass_indexes(db),
            lambda: ensure_entry_indexes(db),
        ],
    )
