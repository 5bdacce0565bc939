"""In-memory stand-ins for what payouts add to the payments service's unit of work (payouts,
event schedules, seller accounts, the ledger) and to its Stripe port (transfers), keeping the
real adapters' contracts: rows are copies (a document read back), a repository saves only the
version it loaded, the ledger posts an entry once, and a transfer asked again under its
idempotency key is the first one."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Protocol

from common.pagination import Cursor, Page, PageRequest
from common.retries import ConcurrentUpdate
from svc_payments.domain.ledger import JournalEntry
from svc_payments.domain.payouts import PENDING, EventSchedule, Payout, PayoutStatus
from svc_payments.service_layer.ports import (
    StripeUnavailable,
    TransferRefused,
    TransferRequest,
)

TABLES = ("payouts", "event_schedules", "seller_accounts", "ledger")


def detached(row: Any) -> Any:
    if isinstance(row, Payout):
        return dataclasses.replace(row, events=[])
    return dataclasses.replace(row) if dataclasses.is_dataclass(row) else row


class Transaction(Protocol):
    view: dict[str, dict[str, Any]]
    written: set[tuple[str, str]]

    def tracked(self, aggregate: Any) -> Any: ...


class _Rows:
    name: str

    def __init__(self, uow: Transaction) -> None:
        self.uow = uow

    @property
    def rows(self) -> dict[str, Any]:
        return self.uow.view[self.name]

    def _found(self, row: Any) -> Any:
        return None if row is None else self.uow.tracked(detached(row))

    def write(self, key: str, row: Any) -> None:
        self.rows[key] = detached(row)
        self.uow.written.add((self.name, key))

    async def get(self, key: str) -> Any:
        return self._found(self.rows.get(key))

    async def add(self, row: Any) -> None:
        assert row.id not in self.rows, "duplicate _id"
        self.write(row.id, row)
        self.uow.tracked(row)

    async def save(self, row: Any) -> None:
        stored = self.rows.get(row.id)
        if stored is None or stored.version > row.version:
            raise ConcurrentUpdate(f"{self.name}/{row.id} changed meanwhile")
        self.write(row.id, row)
        self.uow.tracked(row)


class FakePayoutRepository(_Rows):
    name = "payouts"

    async def add(self, row: Any) -> None:
        if any(p.order_id == row.order_id for p in self.rows.values()):
            raise ConcurrentUpdate(f"order {row.order_id} got a payout meanwhile")
        await super().add(row)

    async def for_order(self, order_id: str) -> Payout | None:
        return self._found(next((p for p in self.rows.values() if p.order_id == order_id), None))

    async def due_ids(self, now, limit: int) -> list[str]:
        due = [
            p
            for p in self.rows.values()
            if p.next_try_at is not None and p.next_try_at <= now and p.status in PENDING
        ]
        return [p.id for p in sorted(due, key=lambda p: p.next_try_at)][:limit]

    async def owing_reversal_ids(self, limit: int) -> list[str]:
        return [p.id for p in self.rows.values() if p.reversal_owed_minor > 0][:limit]

    async def waiting_of_seller(self, seller_id: str, limit: int) -> list[Payout]:
        return [
            self._found(p)
            for p in self.rows.values()
            if p.seller_id == seller_id and p.status is PayoutStatus.WAITING_FOR_ONBOARDING
        ][:limit]

    async def pending_of_event(self, event_id: str, limit: int) -> list[Payout]:
        return [
            self._found(p)
            for p in self.rows.values()
            if p.event_id == event_id and p.status in PENDING
        ][:limit]

    async def many(self, payout_ids: list[str]) -> list[Payout]:
        return [detached(p) for p in self.rows.values() if p.id in payout_ids]

    async def page(self, request: PageRequest, seller_id, status) -> Page[Payout]:
        """Forwards only (what the handlers' tests walk)."""
        rows = sorted(self.rows.values(), key=lambda p: (p.created_at, p.id), reverse=True)
        rows = [
            p
            for p in rows
            if (seller_id is None or p.seller_id == seller_id)
            and (status is None or p.status is status)
        ]
        if request.cursor is not None:
            after = (request.cursor.created_at, request.cursor.id)
            rows = [p for p in rows if (p.created_at, p.id) < after]
        items = [detached(p) for p in rows[: request.limit]]
        more = len(rows) > request.limit
        token = Cursor.of(items[-1]).encode() if more else ""
        return Page(items, token, more, request.cursor is not None)


class FakeEventScheduleRepository(_Rows):
    name = "event_schedules"

    async def get(self, key: str) -> EventSchedule | None:
        return await super().get(key)


class FakeLedger:
    name = "ledger"

    def __init__(self, uow: Transaction) -> None:
        self.uow = uow

    async def post(self, entry: JournalEntry) -> bool:
        rows = self.uow.view[self.name]
        if entry.id in rows:
            return False
        rows[entry.id] = entry
        self.uow.written.add((self.name, entry.id))
        return True

    async def of_order(self, order_id: str) -> list[JournalEntry]:
        return [e for e in self.uow.view[self.name].values() if e.order_id == order_id]

    async def get(self, entry_id: str) -> JournalEntry | None:
        return self.uow.view[self.name].get(entry_id)


def attach(uow: Any) -> None:
    """Gives a fake unit of work the repositories payouts use."""
    uow.payouts = FakePayoutRepository(uow)
    uow.event_schedules = FakeEventScheduleRepository(uow)
    uow.ledger = FakeLedger(uow)


class FakeTransfers:
    """Stripe's transfers: `next_outcome` "ok", "unreachable" (nothing happens), "lost_reply"
    (made, the answer lost) or "refused"."""

    def __init__(self) -> None:
        self.made: dict[str, tuple[str, TransferRequest]] = {}  # idempotency key -> transfer
        self.asked: list[TransferRequest] = []
        self.next_outcome = "ok"
        self._ids = itertools.count(1)

    async def transfer(self, request: TransferRequest) -> str:
        self.asked.append(request)
        if request.idempotency_key in self.made:
            return self.made[request.idempotency_key][0]
        outcome = self.next_outcome
        if outcome == "unreachable":
            raise StripeUnavailable("The payment provider is unavailable, try again")
        if outcome == "refused":
            raise TransferRefused("The destination account cannot receive transfers")
        transfer_id = f"tr_fake{next(self._ids)}"
        self.made[request.idempotency_key] = (transfer_id, request)
        if outcome == "lost_reply":
            raise StripeUnavailable("The payment provider is unavailable, try again")
        return transfer_id
