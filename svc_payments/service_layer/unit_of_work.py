"""The payments service's unit of work, as the handlers see it (a port): order copies, payments,
charge leases, idempotency keys, seller accounts, the ledger, reconciliation's reports, payouts,
the copy of catalogue events' schedules, refunds, refund runs and disputes in one transaction.
`svc_payments/adapters/unit_of_work.py` implements it on MongoDB; the unit tests' fakes in
memory; `bootstrap.py` chooses."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from common.pagination import Page, PageRequest
from svc_payments.domain.disputes import Dispute, DisputeStatus
from svc_payments.domain.idempotency import IdempotencyRecord
from svc_payments.domain.ledger import JournalEntry
from svc_payments.domain.model import ChargeLease, Order, Payment
from svc_payments.domain.payouts import EventSchedule, Payout, PayoutStatus
from svc_payments.domain.reconciliation import Cursor, ReconciliationReport
from svc_payments.domain.refund_runs import RefundRun
from svc_payments.domain.refunds import Refund, RefundState
from svc_payments.domain.seller_accounts import SellerAccount


class OrderRepository(Protocol):
    async def get(self, order_id: str) -> Order | None: ...

    async def get_many(self, order_ids: list[str]) -> list[Order]:
        """The copies of those orders there are, in no particular order."""
        ...

    async def add(self, order: Order) -> None: ...

    async def save(self, order: Order) -> None: ...

    async def record_delivery(self, order_id: str, at: datetime, method: str) -> None:
        """The order's seats were delivered at `at` by `method` (the first word stands; the
        copy's version, which is the orders service's, does not move)."""
        ...


class PaymentRepository(Protocol):
    async def get_by_stripe_id(self, stripe_id: str) -> Payment | None: ...

    async def for_order(self, order_id: str) -> Payment | None: ...

    async def of_user(self, user_id: str, order_ids: list[str]) -> list[Payment]: ...

    async def by_ids_of_user(self, user_id: str, ids: list[str]) -> list[Payment]: ...

    async def get(self, payment_id: str) -> Payment | None: ...

    async def add(self, payment: Payment) -> None: ...

    async def save(self, payment: Payment) -> None: ...


class ChargeLeaseRepository(Protocol):
    async def get(self, order_id: str) -> ChargeLease: ...

    async def save(self, lease: ChargeLease) -> None: ...


class IdempotencyRepository(Protocol):
    async def get(self, user_id: str, key: str) -> IdempotencyRecord | None:
        """The record of the caller's key, however old (the caller decides if it is live)."""
        ...

    async def save(self, record: IdempotencyRecord) -> None: ...

    async def delete(self, record: IdempotencyRecord) -> None: ...


class SellerAccountRepository(Protocol):
    async def get(self, user_id: str) -> SellerAccount | None: ...

    async def by_stripe_account(self, stripe_account_id: str) -> SellerAccount | None: ...

    async def add(self, seller: SellerAccount) -> None: ...

    async def save(self, seller: SellerAccount) -> None: ...


class PayoutRepository(Protocol):
    async def get(self, payout_id: str) -> Payout | None: ...

    async def for_order(self, order_id: str) -> Payout | None: ...

    async def due_ids(self, now: datetime, limit: int) -> list[str]:
        """Payouts the sweep should look at now (SCHEDULED or WAITING_FOR_ONBOARDING, their
        next_try_at come), the longest due first."""
        ...

    async def owing_reversal_ids(self, limit: int) -> list[str]:
        """Payouts whose transfer must still be reversed at Stripe (reversal_owed_minor > 0)."""
        ...

    async def waiting_of_seller(self, seller_id: str, limit: int) -> list[Payout]: ...

    async def pending_of_event(self, event_id: str, limit: int) -> list[Payout]:
        """The event's payouts not yet paid (SCHEDULED or WAITING_FOR_ONBOARDING)."""
        ...

    async def page(
        self, request: PageRequest, seller_id: str | None, status: PayoutStatus | None
    ) -> Page[Payout]: ...

    async def many(self, payout_ids: list[str]) -> list[Payout]: ...

    async def add(self, payout: Payout) -> None: ...

    async def save(self, payout: Payout) -> None: ...


class EventScheduleRepository(Protocol):
    async def get(self, event_id: str) -> EventSchedule | None: ...

    async def add(self, event: EventSchedule) -> None: ...

    async def save(self, event: EventSchedule) -> None: ...


class DisputeRepository(Protocol):
    async def get(self, dispute_id: str) -> Dispute | None: ...

    async def statuses_of_orders(self, order_ids: list[str]) -> dict[str, DisputeStatus]:
        """The status of each order's latest dispute (orders without one left out)."""
        ...

    async def page(self, request: PageRequest, status: DisputeStatus | None) -> Page[Dispute]: ...

    async def add(self, dispute: Dispute) -> None: ...

    async def save(self, dispute: Dispute) -> None: ...


class Ledger(Protocol):
    async def post(self, entry: JournalEntry) -> bool:
        """Adds `entry` in the transaction; False when it was posted before."""
        ...

    async def of_order(self, order_id: str) -> list[JournalEntry]: ...

    async def get(self, entry_id: str) -> JournalEntry | None: ...

    async def by_ids(self, entry_ids: list[str]) -> list[JournalEntry]:
        """Those of these ids that exist."""
        ...

    async def created_between(self, start: datetime, end: datetime) -> list[JournalEntry]:
        """Created from `start` (included) to `end` (excluded), oldest first."""
        ...

    async def first_created(self) -> datetime | None: ...


class ReconciliationReports(Protocol):
    async def cursor(self) -> Cursor | None:
        """Where the last report ended; None before the first."""
        ...

    async def add(self, report: ReconciliationReport, cursor: Cursor) -> None:
        """Writes `report` and moves the cursor to `cursor`, in the transaction; CursorMoved
        when another run moved it since `cursor.version - 1` was read."""
        ...


class RefundRepository(Protocol):
    async def get(self, refund_id: str) -> Refund | None: ...

    async def of_order(self, order_id: str) -> list[Refund]:
        """The order's refunds, oldest first."""
        ...

    async def by_client_key(self, client_key: str) -> Refund | None: ...

    async def listed(
        self,
        state: RefundState | None,
        buyer_id: str | None,
        order_ids: list[str],
        limit: int,
        ids: list[str] | None = None,
    ) -> list[Refund]: ...

    async def add(self, refund: Refund) -> None: ...

    async def save(self, refund: Refund) -> None: ...


class RefundRunRepository(Protocol):
    async def get(self, run_id: str) -> RefundRun | None: ...

    async def running_ids(self, limit: int) -> list[str]: ...

    async def newest(self, limit: int) -> list[RefundRun]: ...

    async def paid_orders_after(self, event_id: str, cursor: str, limit: int) -> list[str]:
        """The event's paid orders with an id after `cursor`, by id."""
        ...

    async def count_paid_orders(self, event_id: str) -> int: ...

    async def add(self, run: RefundRun) -> None: ...

    async def save(self, run: RefundRun) -> None: ...


class PaymentsUnitOfWork(Protocol):
    orders: OrderRepository
    payments: PaymentRepository
    leases: ChargeLeaseRepository
    keys: IdempotencyRepository
    seller_accounts: SellerAccountRepository
    ledger: Ledger
    reconciliations: ReconciliationReports
    payouts: PayoutRepository
    event_schedules: EventScheduleRepository
    refunds: RefundRepository
    refund_runs: RefundRunRepository
    disputes: DisputeRepository

    async def __aenter__(self) -> PaymentsUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...

    async def already_processed(self, event_id: str) -> bool: ...
