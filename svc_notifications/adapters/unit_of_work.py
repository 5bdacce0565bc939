"""The notifications service's unit of work on MongoDB: its copies of users and orders and the
mail outbox, written in one transaction with the consumer's inbox record. It publishes no
events."""

from __future__ import annotations

from common.mongo import UnitOfWork
from svc_notifications.adapters.repository import MongoMailOutbox, MongoOrders, MongoRecipients


class MongoNotificationsUnitOfWork(UnitOfWork):
    recipients: MongoRecipients
    orders: MongoOrders
    mails: MongoMailOutbox

    async def __aenter__(self) -> MongoNotificationsUnitOfWork:
        await super().__aenter__()
        self.recipients = MongoRecipients(self.db, self)
        self.orders = MongoOrders(self.db, self)
        self.mails = MongoMailOutbox(self.db, self)
        return self
