"""gRPC NotificationsService: requests to reads, mails to messages (no body, no address)."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from svc_notifications.domain.mails import Mail, MailKind, MailStatus
from svc_notifications.service_layer.ports import MailQueue
from svc_notifications.service_layer.reads import notifications_of
from ticketing.notifications.v1 import notifications_pb2 as pb
from ticketing.notifications.v1 import notifications_pb2_grpc

KINDS = {kind: pb.MailKind.Value(f"MAIL_KIND_{kind.name}") for kind in MailKind}
STATUSES = {status: pb.MailStatus.Value(f"MAIL_STATUS_{status.name}") for status in MailStatus}


def notification_to_proto(mail: Mail) -> pb.Notification:
    message = pb.Notification(
        id=mail.id,
        kind=KINDS[mail.kind],
        status=STATUSES[mail.status],
        order_id=mail.order_id,
        attempts=mail.attempts,
        last_error_code=mail.last_error_code,
    )
    message.created_at.CopyFrom(_stamp(mail.created_at))
    if mail.sent_at is not None:
        message.sent_at.CopyFrom(_stamp(mail.sent_at))
    return message


def _stamp(moment) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


class NotificationsServicer(notifications_pb2_grpc.NotificationsServiceServicer):
    def __init__(self, queue: MailQueue) -> None:
        self.queue = queue

    async def ListNotifications(self, request, context):
        mails = await notifications_of(self.queue, request.user_id, request.page_size)
        return pb.ListNotificationsResponse(notifications=[notification_to_proto(m) for m in mails])
