"""Payouts and payments' copy of catalogue events in MongoDB.

- `payouts`: one per paid order (unique `order_id`): {_id, order_id, seller_id, event_id,
  amount_minor, currency_code, charge_id, created_at, ticket_id, status, due_at, next_try_at,
  paid_at, transfer_id, reason, attempts, claimed_by, claimed_until, held_from, reversed_minor,
  version}
  (domain/payouts.py). The sweep's due index is (next_try_at, status): a payout it has nothing
  to do with has no next_try_at.
- `event_schedules`: {_id: catalogue event id, version, status, ends_at, starts_at,
  fee_override, fees_version}: what payments knows of an event's dates and its own fees
  (domain/payouts.EventSchedule); `fee_override` {buyer_fee_percent, buyer_fee_fixed:
  [{currency_code, amount}], seller_commission_percent} as decimal strings (null parts: the
  settings'), null for none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from common.documents import Document, EnumValue, Field, Kind, OptionalEnum
from common.mongo import MongoRepository
from common.pagination import NEWEST_FIRST, Page, PageRequest, keyset_page
from common.retries import ConcurrentUpdate
from svc_payments.domain.fees import FeeOverride
from svc_payments.domain.payouts import PENDING, EventSchedule, Payout, PayoutStatus

PAYOUTS_COLLECTION = "payouts"


async def ensure_payout_indexes(db: AsyncDatabase) -> None:
    payouts = db[PAYOUTS_COLLECTION]
    await payouts.create_index([("order_id", ASCENDING)], unique=True)
    # The sweep's due index.
    await payouts.create_index([("next_try_at", ASCENDING), ("status", ASCENDING)])
    # A seller's payouts (their list; the ones waiting for their onboarding).
    await payouts.create_index([("seller_id", ASCENDING), *NEWEST_FIRST])
    # An event's payouts, moved when it is rescheduled.
    await payouts.create_index([("event_id", ASCENDING), ("status", ASCENDING)])
    # The admins' list, by status.
    await payouts.create_index([("status", ASCENDING), ("created_at", DESCENDING)])


PAYOUTS = Document(
    Payout,
    {
        "_id": Field("id"),
        "order_id": Field("order_id"),
        "seller_id": Field("seller_id"),
        "event_id": Field("event_id"),
        "amount_minor": Field("amount_minor"),
        "currency_code": Field("currency_code"),
        "charge_id": Field("charge_id"),
        "created_at": Field("created_at"),
        "ticket_id": Field("ticket_id", missing=""),
        "status": Field("status", EnumValue(PayoutStatus)),
        "due_at": Field("due_at"),
        "next_try_at": Field("next_try_at"),
        "paid_at": Field("paid_at"),
        "transfer_id": Field("transfer_id"),
        "reason": Field("reason"),
        "attempts": Field("attempts"),
        "claimed_by": Field("claimed_by"),
        "claimed_until": Field("claimed_until"),
        "held_from": Field("held_from", OptionalEnum(PayoutStatus)),
        "reversed_minor": Field("reversed_minor", missing=0),
        "reversal_owed_minor": Field("reversal_owed_minor", missing=0),
        "version": Field("version"),
    },
)


def _dump_fees(fees: FeeOverride | None) -> dict[str, Any] | None:
    if fees is None:
        return None
    percent, commission = fees.buyer_fee_percent, fees.seller_commission_percent
    return {
        "buyer_fee_percent": None if percent is None else str(percent),
        "buyer_fee_fixed": [
            {"currency_code": c, "amount": str(a)} for c, a in fees.buyer_fee_fixed
        ],
        "seller_commission_percent": None if commission is None else str(commission),
    }


def _load_fees(stored: dict[str, Any] | None) -> FeeOverride | None:
    if not stored:
        return None
    return FeeOverride.parse(
        stored.get("buyer_fee_percent") or "",
        [(f["currency_code"], f["amount"]) for f in stored.get("buyer_fee_fixed") or ()],
        stored.get("seller_commission_percent") or "",
    )


FEES = Kind("event fee override", _dump_fees, _load_fees)

EVENT_SCHEDULES = Document(
    EventSchedule,
    {
        "_id": Field("id"),
        "version": Field("version"),
        "status": Field("status"),
        "ends_at": Field("ends_at"),
        "starts_at": Field("starts_at", missing=None),
        "fee_override": Field("fee_override", FEES, missing=None),
        "fees_version": Field("fees_version", missing=-1),
    },
)


class MongoPayoutRepository(MongoRepository[Payout]):
    collection_name = PAYOUTS_COLLECTION
    document = PAYOUTS

    async def add(self, payout: Payout) -> None:
        try:
            await super().add(payout)
        except DuplicateKeyError:
            # The payment's success recorded twice at once: run again and see the other's.
            raise ConcurrentUpdate(f"order {payout.order_id} got a payout meanwhile") from None

    async def for_order(self, order_id: str) -> Payout | None:
        return await self.find_one({"order_id": order_id})

    async def due_ids(self, now: datetime, limit: int) -> list[str]:
        """Payouts the sweep should look at now, the longest due first."""
        cursor = self.collection.find(
            {"next_try_at": {"$lte": now}, "status": {"$in": [s.value for s in PENDING]}},
            {"_id": 1},
            session=self.uow.session,
            sort=[("next_try_at", ASCENDING)],
            limit=limit,
        )
        return [doc["_id"] async for doc in cursor]

    async def owing_reversal_ids(self, limit: int) -> list[str]:
        cursor = self.collection.find(
            {"reversal_owed_minor": {"$gt": 0}}, {"_id": 1}, session=self.uow.session
        ).limit(limit)
        return [doc["_id"] async for doc in cursor]

    async def waiting_of_seller(self, seller_id: str, limit: int) -> list[Payout]:
        return await self._tracked(
            {"seller_id": seller_id, "status": PayoutStatus.WAITING_FOR_ONBOARDING.value}, limit
        )

    async def pending_of_event(self, event_id: str, limit: int) -> list[Payout]:
        return await self._tracked(
            {"event_id": event_id, "status": {"$in": [s.value for s in PENDING]}}, limit
        )

    async def _tracked(self, query: dict[str, Any], limit: int) -> list[Payout]:
        cursor = self.collection.find(query, session=self.uow.session, limit=limit)
        return [self._seen(self.from_doc(doc)) async for doc in cursor]

    async def page(
        self, request: PageRequest, seller_id: str | None, status: PayoutStatus | None
    ) -> Page[Payout]:
        """Newest first: a seller's (or everyone's, `seller_id` None), of one status or all."""
        base: dict[str, Any] = {}
        if seller_id is not None:
            base["seller_id"] = seller_id
        if status is not None:
            base["status"] = status.value
        return await keyset_page(base, request, self._find)

    async def many(self, payout_ids: list[str]) -> list[Payout]:
        return await self.find({"_id": {"$in": payout_ids}})

    async def _find(self, query: dict[str, Any], sort, limit: int) -> list[Payout]:
        return await self.find(query, sort=list(sort), limit=limit)


class MongoEventScheduleRepository(MongoRepository[EventSchedule]):
    collection_name = "event_schedules"
    document = EVENT_SCHEDULES

    async def add(self, event: EventSchedule) -> None:
        try:
            await super().add(event)
        except DuplicateKeyError:
            raise ConcurrentUpdate(f"event {event.id} copied meanwhile") from None
