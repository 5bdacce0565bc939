"""Wires the expiration service: no database, the schedule lives in Redis."""

from __future__ import annotations

from common.clock import Clock
from common.grpc_server import GrpcServer
from common.service import Infrastructure, ServiceProcess
from svc_expiration.adapters.redis_schedule import Scheduler
from svc_expiration.config import ExpirationSettings
from svc_expiration.entrypoints.access import ACCESS
from svc_expiration.entrypoints.events import event_handlers
from svc_expiration.entrypoints.fire_loop import FireLoop
from svc_expiration.entrypoints.grpc_api import ExpirationServicer
from svc_expiration.service_layer.handlers import ExpirationHandlers
from ticketing.expiration.v1 import expiration_pb2, expiration_pb2_grpc

NAME = "expiration"


def bootstrap(settings: ExpirationSettings, clock: Clock | None = None) -> ServiceProcess:
    infra = Infrastructure.from_settings(NAME, settings, clock=clock, with_database=False)
    handlers = ExpirationHandlers(
        scheduler=Scheduler(infra.redis, settings.namespace),
        publish=infra.publisher.publish,
        clock=infra.clock,
        lease_seconds=settings.expiration_lease_seconds,
    )
    fire_loop = FireLoop(handlers, poll_seconds=settings.expiration_poll_ms / 1000)
    server = GrpcServer(
        infra.verifier,
        settings.shutdown_grace_seconds,
        settings.grpc_max_connection_age_seconds,
        services=infra.services,
    )
    server.add(
        expiration_pb2_grpc.add_ExpirationServiceServicer_to_server,
        ExpirationServicer(handlers),
        expiration_pb2.DESCRIPTOR.services_by_name["ExpirationService"].full_name,
        ACCESS,
    )
    consumer = infra.consumer(event_handlers(handlers, on_scheduled=fire_loop.wake))
    return ServiceProcess(NAME, server, infra, consumers=[consumer], loops=[fire_loop.run])
