"""The payments service's documents in MongoDB.

- `orders`: its copy of the orders ({_id, user_id, price "20.00" (the tickets' prices
  together), currency_code, quantity, fees, status, version, seller_id, event_id, ticket_id,
  delivered_at, delivery_method}); a copy from before v1 has no currency_code: USD; one from
  before fees has no quantity (1) and no fees (none charged); one from before sellers were
  recorded no seller_id, event_id and ticket_id (""); one not delivered (issue 22) a null
  delivered_at. `fees` is the order's breakdown, fixed when the copy was first stored, in
  integer minor units: {currency_code, quantity, unit_price, unit_buyer_fee, unit_commission,
  and, for readers of the database, subtotal, buyer_fees, total, commission, proceeds}.
- `payments`: one per order at most (unique `order_id`), found also by `stripe_id`; amount in
  currency_code (none before v1: USD).
- `idempotency_keys`: {_id: "<user id>/<key>", ...}: one per caller's key (unique by its _id),
  the client's CreatePayment key (domain/idempotency.py); deleted by a TTL index a day after.
- `charge_locks`: {_id: order id, holder, until, attempt}: the lease a request holds while it
  asks Stripe to charge the order, and the attempt number that names the idempotency key.
- `seller_accounts`: {_id: the seller's user id, stripe_account_id (unique), payouts_enabled,
  details_submitted, requirements_due, disabled_reason, created_at, version}: the seller's
  Stripe Connect account (domain/seller_accounts.py).
- `ledger_entries`: the ledger's journal (adapters/ledger_store.py).
- `refunds`, `refund_runs`: adapters/refund_store.py.
- `payouts`, `event_schedules`: sellers' payouts, events' ends (adapters/payout_store.py).
"""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from common.documents import AS_IS, MONEY, TUPLE, Document, EnumValue, Field, Kind
from common.idempotency import WINDOW
from common.mongo import MongoRepository, UnitOfWork
from common.retries import ConcurrentUpdate
from svc_payments.adapters.dispute_store import ensure_dispute_indexes
from svc_payments.adapters.ledger_store import ensure_ledger_indexes
from svc_payments.adapters.payout_store import ensure_payout_indexes
from svc_payments.adapters.reconciliation_store import ensure_reconciliation_indexes
from svc_payments.adapters.refund_store import ensure_refund_indexes
from svc_payments.domain.currency import currency_or_default
from svc_payments.domain.fees import FeeQuote
from svc_payments.domain.idempotency import IdempotencyRecord, KeyState
from svc_payments.domain.model import ChargeLease, Order, OrderStatus, Payment, PaymentStatus
from svc_payments.domain.seller_accounts import SellerAccount


async def ensure_indexes(db: AsyncDatabase) -> None:
    # The database's own guard: whatever races, an order never gets a second payment document.
    await db.payments.create_index([("order_id", ASCENDING)], unique=True)
    await db.payments.create_index([("stripe_id", ASCENDING)])
    # One seller per connected account: an account.updated webhook finds its seller by it.
    await db.seller_accounts.create_index([("stripe_account_id", ASCENDING)], unique=True)
    await ensure_ledger_indexes(db)
    await ensure_reconciliation_indexes(db)
    await ensure_payout_indexes(db)
    await ensure_refund_indexes(db)
    await ensure_dispute_indexes(db)
    # A key's record is gone a while after its window (the service ignores it from the end of
    # the window on, whenever the monitor runs).
    await db[IDEMPOTENCY_KEYS].create_index(
        [("created_at", ASCENDING)], expireAfterSeconds=int(WINDOW.total_seconds())
    )


# Documents stored before currencies were recorded: DEFAULT_CURRENCY (currency_or_default).
CURRENCY = Kind("ISO 4217 code", AS_IS.dump, currency_or_default)


def _dump_fees(quote: FeeQuote | None) -> dict | None:
    if quote is None:
        return None
    return {
        "currency_code": quote.currency_code,
        "quantity": quote.quantity,
        "unit_price": quote.unit_price,
        "unit_buyer_fee": quote.unit_buyer_fee,
        "unit_commission": quote.unit_commission,
        "subtotal": quote.subtotal,
        "buyer_fees": quote.buyer_fees,
        "total": quote.total,
        "commission": quote.commission,
        "proceeds": quote.proceeds,
    }


def _load_fees(stored: dict | None) -> FeeQuote | None:
    if not stored:
        return None
    return FeeQuote(
        stored["currency_code"],
        stored["quantity"],
        stored["unit_price"],
        stored["unit_buyer_fee"],
        stored["unit_commission"],
    )


FEES = Kind("fee breakdown in minor units", _dump_fees, _load_fees)

ORDER_COPIES = Document(
    Order,
    {
        "_id": Field("id"),
        "user_id": Field("user_id"),
        "price": Field("price", MONEY),
        "currency_code": Field("currency_code", CURRENCY, missing=currency_or_default(None)),
        "quantity": Field("quantity", missing=1),
        "fees": Field("fees", FEES, missing=None),
        "status": Field("status", EnumValue(OrderStatus)),
        "version": Field("version"),
        "seller_id": Field("seller_id", missing=""),
        "event_id": Field("event_id", missing=""),
        "ticket_id": Field("ticket_id", missing=""),
        "delivered_at": Field("delivered_at", missing=None),
        "delivery_method": Field("delivery_method", missing=""),
    },
)

PAYMENTS = Document(
    Payment,
    {
        "_id": Field("id"),
        "order_id": Field("order_id"),
        "user_id": Field("user_id"),
        "amount": Field("amount", MONEY),
        "currency_code": Field("currency_code", CURRENCY, missing=currency_or_default(None)),
        "status": Field("status", EnumValue(PaymentStatus)),
        "stripe_id": Field("stripe_id"),
        "client_secret": Field("client_secret", missing=""),
        "created_at": Field("created_at"),
        "version": Field("version"),
    },
)


SELLER_ACCOUNTS = Document(
    SellerAccount,
    {
        "_id": Field("id"),
        "stripe_account_id": Field("stripe_account_id"),
        "created_at": Field("created_at"),
        "payouts_enabled": Field("payouts_enabled"),
        "details_submitted": Field("details_submitted"),
        "requirements_due": Field("requirements_due", TUPLE, missing=()),
        "disabled_reason": Field("disabled_reason", missing=""),
        "version": Field("version"),
    },
)


class MongoSellerAccountRepository(MongoRepository[SellerAccount]):
    collection_name = "seller_accounts"
    document = SELLER_ACCOUNTS

    async def by_stripe_account(self, stripe_account_id: str) -> SellerAccount | None:
        return await self.find_one({"stripe_account_id": stripe_account_id})

    async def add(self, seller: SellerAccount) -> None:
        try:
            await super().add(seller)
        except DuplicateKeyError:
            # Two first onboardings of one seller at once: run again and see the other's.
            raise ConcurrentUpdate(f"seller account {seller.id} opened meanwhile") from None


class MongoOrderRepository(MongoRepository[Order]):
    collection_name = "orders"
    document = ORDER_COPIES

    async def get_many(self, order_ids: list[str]) -> list[Order]:
        return await self.find({"_id": {"$in": order_ids}})

    async def record_delivery(self, order_id: str, at: datetime, method: str) -> None:
        # One conditional update: the first delivery heard stands, and the version (the
        # orders service's) is left as it is.
        await self.collection.update_one(
            {"_id": order_id, "delivered_at": None},
            {"$set": {"delivered_at": at, "delivery_method": method}},
            session=self.uow.session,
        )

    async def add(self, order: Order) -> None:
        try:
            await super().add(order)
        except DuplicateKeyError:
            # Its OrderCreated and a read-through stored it at once: run again and see it.
            raise ConcurrentUpdate(f"order copy {order.id} stored meanwhile") from None


class MongoPaymentRepository(MongoRepository[Payment]):
    collection_name = "payments"
    document = PAYMENTS

    async def get_by_stripe_id(self, stripe_id: str) -> Payment | None:
        return await self.find_one({"stripe_id": stripe_id}) if stripe_id else None

    async def for_order(self, order_id: str) -> Payment | None:
        return await self.find_one({"order_id": order_id})

    async def of_user(self, user_id: str, order_ids: list[str]) -> list[Payment]:
        return await self.find({"order_id": {"$in": order_ids}, "user_id": user_id})

    async def by_ids_of_user(self, user_id: str, ids: list[str]) -> list[Payment]:
        return await self.find({"_id": {"$in": ids}, "user_id": user_id})

    async def add(self, payment: Payment) -> None:
        try:
            await super().add(payment)
        except DuplicateKeyError:
            # Another transaction recorded the order's payment first: run again and see it.
            raise ConcurrentUpdate(f"order {payment.order_id} got a payment meanwhile") from None


class MongoChargeLeaseRepository:
    """Not an aggregate (no events, no version): every claim writes the document, so two
    requests claiming at once write the same document and one transaction loses."""

    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.collection = db["charge_locks"]
        self.uow = uow

    async def get(self, order_id: str) -> ChargeLease:
        doc = await self.collection.find_one({"_id": order_id}, session=self.uow.session)
        if doc is None:
            return ChargeLease(order_id)
        return ChargeLease(order_id, doc.get("holder"), doc.get("until"), doc.get("attempt", 0))

    async def save(self, lease: ChargeLease) -> None:
        try:
            await self.collection.replace_one(
                {"_id": lease.order_id},
                {"holder": lease.holder, "until": lease.until, "attempt": lease.attempt},
                upsert=True,
                session=self.uow.session,
            )
        except DuplicateKeyError:  # two first claims upserting at once
            raise ConcurrentUpdate(f"charge lease {lease.order_id} taken meanwhile") from None


IDEMPOTENCY_KEYS = "idempotency_keys"


class MongoIdempotencyRepository:
    """Not an aggregate (no events, no version): a key's record is written whole, so two
    requests claiming one key at once write the same document and one transaction loses."""

    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.collection = db[IDEMPOTENCY_KEYS]
        self.uow = uow

    @staticmethod
    def _id(user_id: str, key: str) -> str:
        return f"{user_id}/{key}"  # a key has no "/": the pair is unambiguous

    async def get(self, user_id: str, key: str) -> IdempotencyRecord | None:
        doc = await self.collection.find_one(
            {"_id": self._id(user_id, key)}, session=self.uow.session
        )
        if doc is None:
            return None
        return IdempotencyRecord(
            user_id=doc["user_id"],
            key=doc["key"],
            fingerprint=doc["fingerprint"],
            created_at=doc["created_at"],
            state=KeyState(doc["state"]),
            holder=doc.get("holder"),
            until=doc.get("until"),
            payment_id=doc.get("payment_id", ""),
            message=doc.get("message", ""),
        )

    async def save(self, record: IdempotencyRecord) -> None:
        doc = {
            "user_id": record.user_id,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "created_at": record.created_at,
            "state": record.state.value,
            "holder": record.holder,
            "until": record.until,
            "payment_id": record.payment_id,
            "message": record.message,
        }
        try:
            await self.collection.replace_one(
                {"_id": self._id(record.user_id, record.key)},
                doc,
                upsert=True,
                session=self.uow.session,
            )
        except DuplicateKeyError:  # two first claims of the key upserting at once
            raise ConcurrentUpdate(f"idempotency key {record.key} claimed meanwhile") from None

    async def delete(self, record: IdempotencyRecord) -> None:
        await self.collection.delete_one(
            {"_id": self._id(record.user_id, record.key)}, session=self.uow.session
        )
