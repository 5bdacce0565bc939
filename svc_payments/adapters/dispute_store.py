"""Disputes in MongoDB.

`disputes`: one per Stripe dispute (`_id` its id): {order_id, payment_id, buyer_id, seller_id,
event_id, amount_paid, purchased_at, payment_intent_id, charge_id, amount, currency_code, reason,
status, evidence_due_by, submission_count, created_at, evidence, recovered_minor, reversal_id,
repaid_transfer_id, version} (domain/disputes.py). Indexed by order (a payment's dispute
status) and by status (the admins' list, newest first).
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from common.documents import Document, EnumValue, Field
from common.mongo import MongoRepository
from common.pagination import NEWEST_FIRST, Page, PageRequest, keyset_page
from common.retries import ConcurrentUpdate
from svc_payments.domain.disputes import Dispute, DisputeStatus

DISPUTES_COLLECTION = "disputes"


async def ensure_dispute_indexes(db: AsyncDatabase) -> None:
    disputes = db[DISPUTES_COLLECTION]
    await disputes.create_index([("order_id", ASCENDING), *NEWEST_FIRST])
    await disputes.create_index([("status", ASCENDING), ("created_at", DESCENDING)])
    await disputes.create_index(NEWEST_FIRST)


DISPUTES = Document(
    Dispute,
    {
        "_id": Field("id"),
        "order_id": Field("order_id"),
        "payment_id": Field("payment_id"),
        "buyer_id": Field("buyer_id"),
        "seller_id": Field("seller_id"),
        "event_id": Field("event_id"),
        "amount_paid": Field("amount_paid"),
        "purchased_at": Field("purchased_at"),
        "payment_intent_id": Field("payment_intent_id"),
        "charge_id": Field("charge_id"),
        "amount": Field("amount"),
        "currency_code": Field("currency_code"),
        "reason": Field("reason"),
        "status": Field("status", EnumValue(DisputeStatus)),
        "evidence_due_by": Field("evidence_due_by"),
        "submission_count": Field("submission_count"),
        "created_at": Field("created_at"),
        "evidence": Field("evidence"),
        "recovered_minor": Field("recovered_minor"),
        "reversal_id": Field("reversal_id"),
        "repaid_transfer_id": Field("repaid_transfer_id", missing=""),
        "version": Field("version"),
    },
)


class MongoDisputeRepository(MongoRepository[Dispute]):
    collection_name = DISPUTES_COLLECTION
    document = DISPUTES

    async def add(self, dispute: Dispute) -> None:
        try:
            await super().add(dispute)
        except DuplicateKeyError:
            raise ConcurrentUpdate(f"dispute {dispute.id} recorded meanwhile") from None

    async def statuses_of_orders(self, order_ids: list[str]) -> dict[str, DisputeStatus]:
        """The status of each order's latest dispute (orders without one left out)."""
        cursor = self.collection.find(
            {"order_id": {"$in": order_ids}},
            {"order_id": 1, "status": 1},
            session=self.uow.session,
            sort=[("created_at", ASCENDING), ("_id", ASCENDING)],
        )
        return {doc["order_id"]: DisputeStatus(doc["status"]) async for doc in cursor}

    async def page(self, request: PageRequest, status: DisputeStatus | None) -> Page[Dispute]:
        base: dict[str, Any] = {} if status is None else {"status": status.value}
        return await keyset_page(base, request, self._find)

    async def _find(self, query: dict[str, Any], sort, limit: int) -> list[Dispute]:
        return await self.find(query, sort=list(sort), limit=limit)
