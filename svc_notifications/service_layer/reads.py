"""What was sent to a user: for operators (ListNotifications)."""

from __future__ import annotations

from common.errors import InvalidInput
from svc_notifications.domain.mails import Mail
from svc_notifications.service_layer.ports import MailQueue

DEFAULT_PAGE, MAX_PAGE = 50, 200


async def notifications_of(queue: MailQueue, user_id: str, page_size: int) -> list[Mail]:
    if not user_id.strip():
        raise InvalidInput("A user id is required", field="user_id")
    if page_size < 0:
        raise InvalidInput("page_size must not be negative", field="page_size")
    return await queue.for_recipient(user_id, min(page_size or DEFAULT_PAGE, MAX_PAGE))
