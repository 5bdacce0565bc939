"""The notifications service's unit of work, as the handlers see it (a port): its copies of
users and orders, and the mail outbox, in one transaction with the consumer's inbox record.
`svc_notifications/adapters/unit_of_work.py` implements it on MongoDB; the unit tests' fakes in
memory."""

from __future__ import annotations

from typing import Protocol

from svc_notifications.domain.mails import Mail
from svc_notifications.domain.receipts import OrderCopy
from svc_notifications.domain.recipients import Recipient


class RecipientRepository(Protocol):
    async def get(self, user_id: str) -> Recipient | None: ...

    async def put(self, recipient: Recipient) -> None: ...


class OrderRepository(Protocol):
    async def get(self, order_id: str) -> OrderCopy | None: ...

    async def put(self, order: OrderCopy) -> None: ...


class MailOutbox(Protocol):
    async def add(self, mail: Mail) -> bool:
        """Writes the mail unless one with its id exists (a redelivered event): True if new."""
        ...


class NotificationsUnitOfWork(Protocol):
    recipients: RecipientRepository
    orders: OrderRepository
    mails: MailOutbox

    async def __aenter__(self) -> NotificationsUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def already_processed(self, event_id: str) -> bool: ...

    async def commit(self) -> None: ...
