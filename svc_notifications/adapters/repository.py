"""The repositories the consumer's unit of work writes through (in its transaction)."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from common.mongo import UnitOfWork
from svc_notifications.adapters.documents import (
    MAILS,
    ORDERS,
    RECIPIENTS,
    mail_to_doc,
    order_from_doc,
    order_to_doc,
    recipient_from_doc,
)
from svc_notifications.domain.mails import Mail
from svc_notifications.domain.receipts import OrderCopy
from svc_notifications.domain.recipients import Recipient


class MongoRecipients:
    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.collection, self.uow = db[RECIPIENTS], uow

    async def get(self, user_id: str) -> Recipient | None:
        doc = await self.collection.find_one({"_id": user_id}, session=self.uow.session)
        return None if doc is None else recipient_from_doc(doc)

    async def put(self, recipient: Recipient) -> None:
        await self.collection.replace_one(
            {"_id": recipient.id},
            {"email": recipient.email, "version": recipient.version},
            upsert=True,
            session=self.uow.session,
        )


class MongoOrders:
    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.collection, self.uow = db[ORDERS], uow

    async def get(self, order_id: str) -> OrderCopy | None:
        doc = await self.collection.find_one({"_id": order_id}, session=self.uow.session)
        return None if doc is None else order_from_doc(doc)

    async def put(self, order: OrderCopy) -> None:
        doc = order_to_doc(order)
        await self.collection.replace_one(
            {"_id": order.id}, doc, upsert=True, session=self.uow.session
        )


class MongoMailOutbox:
    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.collection, self.uow = db[MAILS], uow

    async def add(self, mail: Mail) -> bool:
        # Keyed by the mail's id: a second write of the same mail changes nothing.
        result = await self.collection.update_one(
            {"_id": mail.id},
            {"$setOnInsert": mail_to_doc(mail)},
            upsert=True,
            session=self.uow.session,
        )
        return result.upserted_id is not None
