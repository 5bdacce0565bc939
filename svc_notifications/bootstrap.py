"""Wires the notifications service: the one place real adapters are chosen (integration tests
may pass another mail transport)."""

from __future__ import annotations

from datetime import timedelta

from common.grpc_server import GrpcServer
from common.service import Infrastructure, ServiceProcess
from svc_notifications.adapters.documents import ensure_indexes
from svc_notifications.adapters.mail_queue import MongoMailQueue
from svc_notifications.adapters.smtp import SmtpSettings, SmtpTransport
from svc_notifications.adapters.templates import JinjaTemplates
from svc_notifications.adapters.unit_of_work import MongoNotificationsUnitOfWork
from svc_notifications.config import NotificationsSettings
from svc_notifications.domain.mails import RetryPolicy
from svc_notifications.entrypoints.access import ACCESS
from svc_notifications.entrypoints.grpc_api import NotificationsServicer
from svc_notifications.service_layer.event_handlers import NotificationHandlers
from svc_notifications.service_layer.ports import MailTransport
from svc_notifications.service_layer.sender import MailSender
from ticketing.notifications.v1 import notifications_pb2, notifications_pb2_grpc

NAME = "notifications"


def smtp_transport(settings: NotificationsSettings) -> SmtpTransport:
    password = settings.smtp_password
    return SmtpTransport(
        SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password.get_secret_value() if password else None,
            starttls=settings.smtp_starttls,
            mail_from=settings.mail_from,
            timeout_seconds=settings.smtp_timeout_seconds,
        )
    )


def bootstrap(
    settings: NotificationsSettings, transport: MailTransport | None = None
) -> ServiceProcess:
    infra = Infrastructure.from_settings(NAME, settings)
    assert infra.db is not None
    db = infra.db
    queue = MongoMailQueue(db)
    domain = settings.mail_domain()
    sender = MailSender(
        queue,
        transport or smtp_transport(settings),
        JinjaTemplates(),
        RetryPolicy(
            settings.notifications_max_attempts,
            timedelta(seconds=settings.notifications_retry_first_seconds),
            timedelta(seconds=settings.notifications_retry_max_seconds),
        ),
        message_id=lambda mail_id: f"<{mail_id}@{domain}>",
        lease=timedelta(seconds=settings.notifications_lease_seconds),
        batch=settings.notifications_send_batch,
        clock=infra.clock,
    )
    handlers = NotificationHandlers(
        infra.unit_of_work(MongoNotificationsUnitOfWork), clock=infra.clock
    )
    server = GrpcServer(
        infra.verifier,
        settings.shutdown_grace_seconds,
        settings.grpc_max_connection_age_seconds,
        services=infra.services,
    )
    server.add(
        notifications_pb2_grpc.add_NotificationsServiceServicer_to_server,
        NotificationsServicer(queue),
        notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"].full_name,
        ACCESS,
    )
    return ServiceProcess(
        NAME,
        server,
        infra,
        consumers=[infra.consumer(handlers.event_handlers)],
        loops=[lambda: sender.run(settings.notifications_poll_seconds)],
        on_start=[lambda: ensure_indexes(db)],
    )
