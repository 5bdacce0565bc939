"""In-memory stand-ins for the payments service's adapters, for unit tests of the service layer.

They keep the contracts the real adapters keep:
- the unit of work is a snapshot transaction: nothing is visible to others until commit, and
  of two transactions that wrote the same document the second to commit fails with a transient
  error (as Mongo's write conflict does), so `retry_transient` runs it again;
- at most one payment per order (the unique index);
- events are published only on commit;
- at most one seller account per connected account (the unique index);
- FakeStripe answers a repeated idempotency key with the first answer, as Stripe does (charges
  and accounts alike).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.protobuf.message import Message

from common.errors import Unavailable
from common.retries import ConcurrentUpdate
from svc_payments.adapters.outbox_mapping import to_integration
from svc_payments.domain.idempotency import IdempotencyRecord
from svc_payments.domain.model import ChargeLease, Intent, Order, Payment
from svc_payments.domain.payouts import Payout
from svc_payments.domain.seller_accounts import ConnectedAccount, SellerAccount
from svc_payments.service_layer.ports import (
    CardDeclined,
    ChargeRequest,
    IdempotencyMismatch,
    InvalidPaymentMethod,
    NewConnectedAccount,
    ReversalRequest,
    StripeUnavailable,
    TransferRequest,
)
from tests.unit.fakes_payouts import TABLES, FakeTransfers, attach


def _detached(row: Any) -> Any:
    """A copy, as a document read back from the database would be (no pending events)."""
    if isinstance(row, Order | Payment | SellerAccount | Payout):
        return dataclasses.replace(row, events=[])
    return dataclasses.replace(row) if dataclasses.is_dataclass(row) else row


def refund_id_of(stripe_id: str) -> str:
    """The id the fake gives the refund of a PaymentIntent (one refund each, in full)."""
    return stripe_id.replace("pi_", "re_", 1)


@dataclass
class FakeDatabase:
    tables: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "orders": {},
            "payments": {},
            "leases": {},
            "keys": {},
            "seller_accounts": {},
            "processed": {},
            **{name: {} for name in TABLES},
        }
    )
    stamps: dict[tuple[str, str], int] = field(default_factory=dict)
    published: list[Message] = field(default_factory=list)
    commits: int = 0

    @property
    def orders(self) -> dict[str, Order]:
        return self.tables["orders"]

    @property
    def payments(self) -> dict[str, Payment]:
        return self.tables["payments"]

    @property
    def keys(self) -> dict[str, IdempotencyRecord]:
        return self.tables["keys"]

    @property
    def seller_accounts(self) -> dict[str, SellerAccount]:
        return self.tables["seller_accounts"]

    def payment_of(self, order_id: str) -> Payment | None:
        return next((p for p in self.payments.values() if p.order_id == order_id), None)

    def published_of(self, kind: type[Message]) -> list[Message]:
        return [e for e in self.published if isinstance(e, kind)]


class _Table:
    def __init__(self, uow: FakePaymentsUnitOfWork, name: str) -> None:
        self.uow = uow
        self.name = name

    @property
    def rows(self) -> dict[str, Any]:
        return self.uow.view[self.name]

    def write(self, key: str, row: Any) -> None:
        self.rows[key] = _detached(row)
        self.uow.written.add((self.name, key))


class FakeOrderRepository(_Table):
    def __init__(self, uow: FakePaymentsUnitOfWork) -> None:
        super().__init__(uow, "orders")

    async def get(self, order_id: str) -> Order | None:
        row = self.rows.get(order_id)
        return None if row is None else self.uow.tracked(_detached(row))

    async def get_many(self, order_ids: list[str]) -> list[Order]:
        return [_detached(self.rows[i]) for i in order_ids if i in self.rows]

    async def add(self, order: Order) -> None:
        assert order.id not in self.rows, "duplicate _id"
        self.write(order.id, order)
        self.uow.tracked(order)

    async def save(self, order: Order) -> None:
        stored = self.rows.get(order.id)
        if stored is None or stored.version != order.version - 1:
            raise ConcurrentUpdate(f"orders/{order.id} changed meanwhile")
        self.write(order.id, order)
        self.uow.tracked(order)

    async def record_delivery(self, order_id: str, at: datetime, method: str) -> None:
        stored = self.rows.get(order_id)
        if stored is not None and stored.delivered_at is None:
            delivered = dataclasses.replace(stored, delivered_at=at, delivery_method=method)
            self.write(order_id, delivered)


class FakePaymentRepository(_Table):
    def __init__(self, uow: FakePaymentsUnitOfWork) -> None:
        super().__init__(uow, "payments")

    def _found(self, row: Payment | None) -> Payment | None:
        return None if row is None else self.uow.tracked(_detached(row))

    async def get_by_stripe_id(self, stripe_id: str) -> Payment | None:
        found = (p for p in self.rows.values() if stripe_id and p.stripe_id == stripe_id)
        return self._found(next(found, None))

    async def for_order(self, order_id: str) -> Payment | None:
        return self._found(next((p for p in self.rows.values() if p.order_id == order_id), None))

    async def of_user(self, user_id: str, order_ids: list[str]) -> list[Payment]:
        return [
            _detached(p)
            for p in self.rows.values()
            if p.user_id == user_id and p.order_id in order_ids
        ]

    async def by_ids_of_user(self, user_id: str, ids: list[str]) -> list[Payment]:
        return [_detached(p) for p in self.rows.values() if p.user_id == user_id and p.id in ids]

    async def get(self, payment_id: str) -> Payment | None:
        return self._found(self.rows.get(payment_id))

    async def add(self, payment: Payment) -> None:
        if any(p.order_id == payment.order_id for p in self.rows.values()):
            raise AssertionError(f"unique index: order {payment.order_id} has a payment")
        self.write(payment.id, payment)
        self.uow.tracked(payment)

    async def save(self, payment: Payment) -> None:
        stored = self.rows.get(payment.id)
        if stored is None or stored.version != payment.version - 1:
            raise ConcurrentUpdate(f"payments/{payment.id} changed meanwhile")
        self.write(payment.id, payment)
        self.uow.tracked(payment)


class FakeChargeLeaseRepository(_Table):
    def __init__(self, uow: FakePaymentsUnitOfWork) -> None:
        super().__init__(uow, "leases")

    async def get(self, order_id: str) -> ChargeLease:
        row = self.rows.get(order_id)
        return ChargeLease(order_id) if row is None else _detached(row)

    async def save(self, lease: ChargeLease) -> None:
        self.write(lease.order_id, lease)


class FakeIdempotencyRepository(_Table):
    """Keyed by "<user>/<key>", as the Mongo one: two transactions claiming a key at once write
    the same row, and the second to commit fails."""

    def __init__(self, uow: FakePaymentsUnitOfWork) -> None:
        super().__init__(uow, "keys")

    async def get(self, user_id: str, key: str) -> IdempotencyRecord | None:
        row = self.rows.get(f"{user_id}/{key}")
        return None if row is None else _detached(row)

    async def save(self, record: IdempotencyRecord) -> None:
        self.write(f"{record.user_id}/{record.key}", record)

    async def delete(self, record: IdempotencyRecord) -> None:
        row_id = f"{record.user_id}/{record.key}"
        self.rows.pop(row_id, None)
        self.uow.written.add((self.name, row_id))


class FakeSellerAccountRepository(_Table):
    """Keyed by the seller's user id, unique by the Stripe account, as the Mongo one."""

    def __init__(self, uow: FakePaymentsUnitOfWork) -> None:
        super().__init__(uow, "seller_accounts")

    def _found(self, row: SellerAccount | None) -> SellerAccount | None:
        return None if row is None else self.uow.tracked(_detached(row))

    async def get(self, user_id: str) -> SellerAccount | None:
        return self._found(self.rows.get(user_id))

    async def by_stripe_account(self, stripe_account_id: str) -> SellerAccount | None:
        found = (s for s in self.rows.values() if s.stripe_account_id == stripe_account_id)
        return self._found(next(found, None))

    async def add(self, seller: SellerAccount) -> None:
        if seller.id in self.rows:
            raise ConcurrentUpdate(f"seller account {seller.id} opened meanwhile")
        if any(s.stripe_account_id == seller.stripe_account_id for s in self.rows.values()):
            raise AssertionError(f"unique index: {seller.stripe_account_id} has a seller")
        self.write(seller.id, seller)
        self.uow.tracked(seller)

    async def save(self, seller: SellerAccount) -> None:
        stored = self.rows.get(seller.id)
        if stored is None or stored.version != seller.version - 1:
            raise ConcurrentUpdate(f"seller_accounts/{seller.id} changed meanwhile")
        self.write(seller.id, seller)
        self.uow.tracked(seller)


class FakePaymentsUnitOfWork:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.view: dict[str, dict[str, Any]] = {}
        self.written: set[tuple[str, str]] = set()
        self._stamps: dict[tuple[str, str], int] = {}
        self._seen: list[Order | Payment | SellerAccount] = []
        self.committed = False

    async def __aenter__(self) -> FakePaymentsUnitOfWork:
        tables = self.db.tables.items()
        self.view = {name: {k: _detached(v) for k, v in rows.items()} for name, rows in tables}
        self._stamps = dict(self.db.stamps)
        self.written, self._seen, self.committed = set(), [], False
        self.orders = FakeOrderRepository(self)
        self.payments = FakePaymentRepository(self)
        self.leases = FakeChargeLeaseRepository(self)
        self.keys = FakeIdempotencyRepository(self)
        attach(self)  # payouts, event schedules, the ledger
        self.seller_accounts = FakeSellerAccountRepository(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.view = {}

    def tracked(self, aggregate: Any) -> Any:
        if not any(a is aggregate for a in self._seen):
            self._seen.append(aggregate)
        return aggregate

    async def already_processed(self, event_id: str) -> bool:
        if event_id in self.view["processed"]:
            return True
        self.view["processed"][event_id] = True
        self.written.add(("processed", event_id))
        return False

    async def commit(self) -> None:
        assert self.view, "commit outside `async with`"
        for key in self.written:  # first committer wins, as with Mongo's write conflicts
            if self.db.stamps.get(key, 0) != self._stamps.get(key, 0):
                raise ConcurrentUpdate(f"{key} was written by another transaction")
        for table, key in self.written:  # the unique index on payments.order_id
            if table == "payments":
                mine = self.view[table][key]
                for other in self.db.payments.values():
                    if other.order_id == mine.order_id and other.id != mine.id:
                        raise ConcurrentUpdate(f"order {mine.order_id} got a payment meanwhile")
        for table, key in self.written:
            if key not in self.view[table]:  # deleted
                self.db.tables[table].pop(key, None)
            else:
                self.db.tables[table][key] = _detached(self.view[table][key])
            self.db.stamps[(table, key)] = self.db.stamps.get((table, key), 0) + 1
        for aggregate in self._seen:
            # As the Mongo unit of work writes them to the outbox: integration events.
            self.db.published.extend(to_integration(e) for e in aggregate.events)
            aggregate.events = []
        self.db.commits += 1
        self.committed = True


class FakeStripe:
    """A Stripe account in memory. `next_outcome` says what the next new charge does:
    "succeeded", "requires_action", "declined", "invalid", "unreachable" (nothing happens), or
    "lost_reply" (the charge succeeds but the reply never arrives). `gate`, when set, holds
    every charge until it is opened, so tests can act while a charge is in flight."""

    def __init__(self) -> None:
        self.intents: dict[str, Intent] = {}
        self.requests: list[ChargeRequest] = []
        self.by_key: dict[str, Intent] = {}
        self.refunds: list[str] = []
        self.next_outcome = "succeeded"
        self.refunds_unreachable = False
        self.gate: asyncio.Event | None = None
        self.in_flight = asyncio.Event()
        self._ids = itertools.count(1)
        self.accounts: dict[str, ConnectedAccount] = {}
        self.accounts_by_key: dict[str, tuple[NewConnectedAccount, str]] = {}
        self.account_requests: list[NewConnectedAccount] = []
        self.account_reads: list[str] = []
        self.links: list[tuple[str, str, str]] = []
        self.account_outcome = "ok"
        self.transfers = FakeTransfers()
        self.reversals: dict[str, tuple[str, ReversalRequest]] = {}  # key -> (trr_, request)

    @property
    def charged(self) -> list[Intent]:
        """Every intent whose money was taken and not given back."""
        return [
            i for i in self.intents.values() if i.status == "succeeded" and i.id not in self.refunds
        ]

    def set_status(self, stripe_id: str, status: str, failure: str = "") -> None:
        self.intents[stripe_id] = dataclasses.replace(
            self.intents[stripe_id], status=status, failure=failure
        )

    async def charge(self, request: ChargeRequest) -> Intent:
        self.requests.append(request)
        self.in_flight.set()
        if self.gate is not None:
            await self.gate.wait()
        if request.idempotency_key in self.by_key:  # Stripe replays the first answer
            intent = self.intents[self.by_key[request.idempotency_key].id]
            if intent.status == "requires_payment_method":
                raise CardDeclined("Your card was declined.", intent.id)
            return intent
        outcome = self.next_outcome
        if outcome == "unreachable":
            raise StripeUnavailable("The payment provider is unavailable, try again")
        if outcome == "invalid":
            raise InvalidPaymentMethod("No such PaymentMethod: 'pm_nonexistent'")
        status = {"declined": "requires_payment_method", "lost_reply": "succeeded"}
        intent = Intent(
            id=f"pi_fake{next(self._ids)}",
            status=status.get(outcome, outcome),
            amount=request.amount_minor,
            client_secret="secret",
            order_id=request.order_id,
            charge_id=f"ch_fake{next(self._ids)}",
        )
        self.intents[intent.id] = intent
        self.by_key[request.idempotency_key] = intent
        if outcome == "declined":
            raise CardDeclined("Your card was declined.", intent.id)
        if outcome == "lost_reply":
            raise StripeUnavailable("The payment provider is unavailable, try again")
        return intent

    async def retrieve(self, stripe_id: str) -> Intent | None:
        return self.intents.get(stripe_id)

    async def refund(self, stripe_id: str) -> str:
        if self.refunds_unreachable:
            raise StripeUnavailable("The payment provider is unavailable, try again")
        assert self.intents[stripe_id].status == "succeeded", "refunding an unpaid intent"
        if stripe_id not in self.refunds:
            self.refunds.append(stripe_id)
        return refund_id_of(stripe_id)

    # -- Connect --------------------------------------------------------------------------------
    # `accounts` is what Stripe reports of each; `account_outcome` what the next call about an
    # account does: "ok", "unreachable" (nothing happens) or "lost_reply" (the account is
    # opened but the reply never arrives).

    def _account_call(self) -> None:
        if self.account_outcome == "unreachable":
            raise StripeUnavailable("The payment provider is unavailable, try again")

    async def create_account(self, request: NewConnectedAccount) -> ConnectedAccount:
        self.account_requests.append(request)
        self._account_call()
        first = self.accounts_by_key.get(request.idempotency_key)
        if first is not None:
            if first[0] != request:
                raise IdempotencyMismatch("Keys for idempotent requests: other parameters")
            return self.accounts[first[1]]
        account = ConnectedAccount(
            id=f"acct_fake{next(self._ids)}",
            payouts_enabled=False,
            details_submitted=False,
            requirements_due=("external_account", "tos_acceptance.date"),
            disabled_reason="requirements.past_due",
        )
        self.accounts[account.id] = account
        self.accounts_by_key[request.idempotency_key] = (request, account.id)
        if self.account_outcome == "lost_reply":
            raise StripeUnavailable("The payment provider is unavailable, try again")
        return account

    async def create_account_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        self._account_call()
        assert account_id in self.accounts, f"no such account {account_id}"
        self.links.append((account_id, refresh_url, return_url))
        return f"https://connect.stripe.test/setup/{account_id}/{len(self.links)}"

    async def retrieve_account(self, account_id: str) -> ConnectedAccount | None:
        self.account_reads.append(account_id)
        self._account_call()
        return self.accounts.get(account_id)

    def complete_onboarding(self, account_id: str) -> None:
        """The seller finished Stripe's hosted onboarding."""
        self.accounts[account_id] = dataclasses.replace(
            self.accounts[account_id],
            payouts_enabled=True,
            details_submitted=True,
            requirements_due=(),
            disabled_reason="",
        )

    async def transfer(self, request: TransferRequest) -> str:
        return await self.transfers.transfer(request)

    async def reverse_transfer(self, request: ReversalRequest) -> str:
        """A transfer reversal: one per idempotency key (trr_fake<n>)."""
        if request.idempotency_key not in self.reversals:
            self.reversals[request.idempotency_key] = (
                f"trr_fake{len(self.reversals) + 1}",
                request,
            )
        return self.reversals[request.idempotency_key][0]


def uow_factory(db: FakeDatabase) -> Callable[[], FakePaymentsUnitOfWork]:
    return lambda: FakePaymentsUnitOfWork(db)


class FakeOrdersService:
    """The orders service as payments reads it through: each order is shown to its buyer only
    (the token here is simply the user id)."""

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.reachable = True
        self.asked: list[tuple[str, str | None]] = []

    def place(self, order: Order) -> None:
        self.orders[order.id] = order

    async def get_order(self, order_id: str, token: str | None) -> Order | None:
        self.asked.append((order_id, token))
        if not self.reachable:
            raise Unavailable("A service is unavailable, try again shortly")
        order = self.orders.get(order_id)
        if order is None or order.user_id != token:
            return None
        return _detached(order)
