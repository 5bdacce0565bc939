"""The mail outbox as the sender reads and marks it: each change one single-document update,
outside any transaction. A claim is compare-and-set on `claimed_until` (as common.outbox's
relay claims events): a mail is held by one sender at a time, and comes back to any when its
lease runs out (its sender died)."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from common.mongo import UNCLAIMED
from svc_notifications.adapters.documents import MAILS, RECIPIENTS, mail_from_doc
from svc_notifications.domain.mails import Mail, MailStatus


class MongoMailQueue:
    def __init__(self, db: AsyncDatabase) -> None:
        self.mails = db[MAILS]
        self.recipients = db[RECIPIENTS]

    async def claim_due(self, now: datetime, until: datetime, limit: int) -> list[Mail]:
        claimed: list[Mail] = []
        while len(claimed) < limit:
            doc = await self.mails.find_one_and_update(
                {
                    "status": MailStatus.PENDING.value,
                    "next_attempt_at": {"$lte": now},
                    "claimed_until": {"$lte": now},
                },
                {"$set": {"claimed_until": until}, "$inc": {"attempts": 1}},
                sort=[("next_attempt_at", ASCENDING)],
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:
                break
            claimed.append(mail_from_doc(doc))
        return claimed

    async def mark_sent(self, mail_id: str, at: datetime) -> None:
        await self.mails.update_one(
            {"_id": mail_id},
            {
                "$set": {
                    "status": MailStatus.SENT.value,
                    "sent_at": at,
                    "claimed_until": UNCLAIMED,
                    "last_error_code": 0,
                }
            },
        )

    async def mark_retry(self, mail_id: str, code: int, next_attempt_at: datetime) -> None:
        await self.mails.update_one(
            {"_id": mail_id},
            {
                "$set": {
                    "next_attempt_at": next_attempt_at,
                    "claimed_until": UNCLAIMED,
                    "last_error_code": code,
                }
            },
        )

    async def mark_given_up(self, mail_id: str, status: MailStatus, code: int) -> None:
        await self.mails.update_one(
            {"_id": mail_id},
            {"$set": {"status": status.value, "claimed_until": UNCLAIMED, "last_error_code": code}},
        )

    async def email_of(self, user_id: str) -> str | None:
        doc = await self.recipients.find_one({"_id": user_id}, {"email": 1})
        return None if doc is None else doc["email"]

    async def for_recipient(self, user_id: str, limit: int) -> list[Mail]:
        cursor = self.mails.find(
            {"recipient_id": user_id}, sort=[("created_at", DESCENDING)], limit=limit
        )
        return [mail_from_doc(doc) async for doc in cursor]
