"""Refunds and refund runs in MongoDB.

- `refunds`: {_id, order_id, buyer_id, seller_id, amount_minor, currency_code, reason, origin,
  requested_by, created_at, state, payment_intent, event_id, decided_by, decided_at,
  decline_reason, stripe_refund_id, transfer_reversal_id, seller_minor, platform_minor, failure,
  completed_at, claimed_by, claimed_until, client_key, fingerprint, version}
  (domain/refunds.py). An admin's idempotency key is unique (`client_key`, "<admin>/<key>",
  "" otherwise); an event run's refund has an id made of its order and event
  (domain/refund_runs.run_refund_id), so making it twice is a duplicate key.
- `refund_runs`: {_id: the event id, event_id, created_at, total, cursor, done, failed,
  skipped, state, finished_at, version} (domain/refund_runs.py).
- The walk of an event's paid orders reads the order copies (`orders`: event_id, status
  COMPLETE, by _id), indexed here.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from common.documents import Document, EnumValue, Field
from common.mongo import MongoRepository
from common.retries import ConcurrentUpdate
from svc_payments.domain.model import OrderStatus
from svc_payments.domain.refund_runs import RefundRun, RunState
from svc_payments.domain.refunds import Refund, RefundOrigin, RefundState

REFUNDS = "refunds"
REFUND_RUNS = "refund_runs"


async def ensure_refund_indexes(db: AsyncDatabase) -> None:
    refunds = db[REFUNDS]
    await refunds.create_index([("order_id", ASCENDING), ("created_at", ASCENDING)])
    await refunds.create_index([("state", ASCENDING), ("created_at", DESCENDING)])
    await refunds.create_index([("buyer_id", ASCENDING), ("created_at", DESCENDING)])
    await refunds.create_index(
        [("client_key", ASCENDING)],
        unique=True,
        partialFilterExpression={"client_key": {"$type": "string", "$gt": ""}},
    )
    await db[REFUND_RUNS].create_index([("created_at", DESCENDING)])
    # The walk of a cancelled event's paid orders, by id.
    await db.orders.create_index([("event_id", ASCENDING), ("status", ASCENDING), ("_id", 1)])


REFUND_DOCUMENT = Document(
    Refund,
    {
        "_id": Field("id"),
        "order_id": Field("order_id"),
        "buyer_id": Field("buyer_id"),
        "seller_id": Field("seller_id"),
        "amount_minor": Field("amount_minor"),
        "currency_code": Field("currency_code"),
        "reason": Field("reason"),
        "origin": Field("origin", EnumValue(RefundOrigin)),
        "requested_by": Field("requested_by"),
        "created_at": Field("created_at"),
        "state": Field("state", EnumValue(RefundState)),
        "payment_intent": Field("payment_intent"),
        "event_id": Field("event_id"),
        "decided_by": Field("decided_by"),
        "decided_at": Field("decided_at"),
        "decline_reason": Field("decline_reason"),
        "stripe_refund_id": Field("stripe_refund_id"),
        "transfer_reversal_id": Field("transfer_reversal_id"),
        "seller_minor": Field("seller_minor"),
        "platform_minor": Field("platform_minor"),
        "failure": Field("failure"),
        "completed_at": Field("completed_at"),
        "claimed_by": Field("claimed_by"),
        "claimed_until": Field("claimed_until"),
        "client_key": Field("client_key"),
        "fingerprint": Field("fingerprint"),
        "version": Field("version"),
    },
)

RUN_DOCUMENT = Document(
    RefundRun,
    {
        "_id": Field("id"),
        "event_id": Field("event_id"),
        "created_at": Field("created_at"),
        "total": Field("total"),
        "cursor": Field("cursor"),
        "done": Field("done"),
        "failed": Field("failed"),
        "skipped": Field("skipped"),
        "state": Field("state", EnumValue(RunState)),
        "finished_at": Field("finished_at"),
        "version": Field("version"),
    },
)


class MongoRefundRepository(MongoRepository[Refund]):
    collection_name = REFUNDS
    document = REFUND_DOCUMENT

    async def add(self, refund: Refund) -> None:
        try:
            await super().add(refund)
        except DuplicateKeyError:
            raise ConcurrentUpdate(f"refund {refund.id} made meanwhile") from None

    async def of_order(self, order_id: str) -> list[Refund]:
        cursor = self.collection.find(
            {"order_id": order_id}, session=self.uow.session, sort=[("created_at", ASCENDING)]
        )
        return [self._seen(self.from_doc(doc)) async for doc in cursor]

    async def by_client_key(self, client_key: str) -> Refund | None:
        return await self.find_one({"client_key": client_key})

    async def listed(
        self,
        state: RefundState | None,
        buyer_id: str | None,
        order_ids: list[str],
        limit: int,
        ids: list[str] | None = None,
    ) -> list[Refund]:
        """Newest first: of one state or all, one buyer's or everyone's, of some orders or all,
        some refunds by id or all."""
        query: dict[str, Any] = {}
        if ids:
            query["_id"] = {"$in": ids}
        if state is not None:
            query["state"] = state.value
        if buyer_id is not None:
            query["buyer_id"] = buyer_id
        if order_ids:
            query["order_id"] = {"$in": order_ids}
        return await self.find(query, sort=[("created_at", DESCENDING), ("_id", 1)], limit=limit)


class MongoRefundRunRepository(MongoRepository[RefundRun]):
    collection_name = REFUND_RUNS
    document = RUN_DOCUMENT

    async def add(self, run: RefundRun) -> None:
        try:
            await super().add(run)
        except DuplicateKeyError:
            raise ConcurrentUpdate(f"refund run {run.id} started meanwhile") from None

    async def running_ids(self, limit: int) -> list[str]:
        cursor = self.collection.find(
            {"state": RunState.RUNNING.value},
            {"_id": 1},
            session=self.uow.session,
            sort=[("created_at", ASCENDING)],
            limit=limit,
        )
        return [doc["_id"] async for doc in cursor]

    async def newest(self, limit: int) -> list[RefundRun]:
        return await self.find({}, sort=[("created_at", DESCENDING)], limit=limit)

    async def paid_orders_after(self, event_id: str, cursor: str, limit: int) -> list[str]:
        """The event's paid orders (our copies COMPLETE) with an id after `cursor`, by id."""
        return await self._order_ids({"_id": {"$gt": cursor}}, event_id, limit)

    async def count_paid_orders(self, event_id: str) -> int:
        return await self.collection.database.orders.count_documents(
            {"event_id": event_id, "status": OrderStatus.COMPLETE.value},
            session=self.uow.session,
        )

    async def _order_ids(self, extra: dict[str, Any], event_id: str, limit: int) -> list[str]:
        orders = self.collection.database.orders
        cursor = orders.find(
            {"event_id": event_id, "status": OrderStatus.COMPLETE.value, **extra},
            {"_id": 1},
            session=self.uow.session,
            sort=[("_id", ASCENDING)],
            limit=limit,
        )
        return [doc["_id"] async for doc in cursor]
