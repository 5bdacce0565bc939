"""The delivery service's unit of work in memory, for its handlers' unit tests: committed state
is copied in and out, so a handler that raises (or does not commit) leaves nothing behind; the
events of a commit are kept in `published`."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from common.pagination import Cursor, Page, PageRequest
from common.retries import ConcurrentUpdate
from svc_delivery.domain.deliveries import Delivery, SellerRecord
from svc_delivery.domain.methods import DeliveryStatus
from svc_delivery.domain.passes import Pass, PassState


class Store:
    def __init__(self) -> None:
        self.deliveries: dict[str, Delivery] = {}
        self.records: dict[str, SellerRecord] = {}
        self.files: dict[str, bytes] = {}
        self.passes: dict[str, Pass] = {}
        # (event_id, pass_id) -> when admitted: what the entry side records.
        self.admissions: dict[tuple[str, str], datetime] = {}
        self.inbox: set[str] = set()
        self.published: list[Any] = []
        self.commits = 0


class _Deliveries:
    def __init__(self, uow: FakeDeliveryUnitOfWork) -> None:
        self.uow = uow

    async def get(self, order_id: str) -> Delivery | None:
        found = self.uow.state.get(order_id)
        if found is not None:
            self.uow.seen.append(found)
        return found

    async def many(self, order_ids: list[str]) -> list[Delivery]:
        return [d for i in order_ids if (d := self.uow.state.get(i)) is not None]

    async def add(self, delivery: Delivery) -> None:
        self.uow.state[delivery.order_id] = delivery
        self.uow.seen.append(delivery)

    async def save(self, delivery: Delivery) -> None:
        self.uow.state[delivery.order_id] = delivery

    async def page_of(
        self, user_id: str, as_seller: bool, statuses: list[DeliveryStatus], request: PageRequest
    ) -> Page[Delivery]:
        rows = sorted(
            (
                d
                for d in self.uow.state.values()
                if (d.seller_id if as_seller else d.buyer_id) == user_id
                and (not statuses or d.status in statuses)
                and (
                    request.cursor is None
                    or (d.created_at, d.order_id) < (request.cursor.created_at, request.cursor.id)
                )
            ),
            key=lambda d: (d.created_at, d.order_id),
            reverse=True,
        )
        items = rows[: request.limit]
        more = len(rows) > request.limit
        return Page(items, Cursor.of(items[-1]).encode() if more else "", has_next=more)

    async def due_ids(self, now: datetime, limit: int) -> list[str]:
        due = [d for d in self.uow.state.values() if d.check_at and d.check_at <= now]
        return [d.order_id for d in sorted(due, key=lambda d: d.check_at)][:limit]  # type: ignore[arg-type,return-value]


class _Records:
    def __init__(self, uow: FakeDeliveryUnitOfWork) -> None:
        self.uow = uow

    async def get(self, seller_id: str) -> SellerRecord:
        return self.uow.record_state.get(seller_id, SellerRecord(seller_id))

    async def count(self, seller_id: str, delivered: int = 0, missed: int = 0) -> None:
        now = await self.get(seller_id)
        self.uow.record_state[seller_id] = SellerRecord(
            seller_id, now.delivered + delivered, now.missed + missed
        )


class _Files:
    def __init__(self, uow: FakeDeliveryUnitOfWork) -> None:
        self.uow = uow

    async def put(self, file_id: str, filename: str, content: bytes, order_id: str) -> None:
        self.uow.file_state[file_id] = content

    async def get(self, file_id: str) -> bytes | None:
        return self.uow.file_state.get(file_id)


class _Passes:
    """Saved on the version loaded, like the MongoDB repository; one pass per (order, seat)."""

    def __init__(self, uow: FakeDeliveryUnitOfWork) -> None:
        self.uow = uow
        self.loaded: dict[str, int] = {}

    def _seen(self, found: Pass) -> Pass:
        self.loaded[found.id] = found.version
        self.uow.seen.append(found)
        return found

    async def get(self, pass_id: str) -> Pass | None:
        found = self.uow.pass_state.get(pass_id)
        return None if found is None else self._seen(found)

    async def add(self, issued: Pass) -> None:
        if any(
            (p.order_id, p.seat) == (issued.order_id, issued.seat)
            for p in self.uow.pass_state.values()
        ):
            raise ValueError(f"a pass of seat {issued.seat} of {issued.order_id} exists")
        self.uow.pass_state[issued.id] = issued
        self._seen(issued)

    async def save(self, changed: Pass) -> None:
        committed = self.uow.store.passes.get(changed.id)
        if committed is not None and committed.version != self.loaded[changed.id]:
            raise ConcurrentUpdate(f"passes/{changed.id} changed meanwhile")
        self.uow.pass_state[changed.id] = changed
        self.loaded[changed.id] = changed.version

    async def of_order(self, order_id: str) -> list[Pass]:
        found = [p for p in self.uow.pass_state.values() if p.order_id == order_id]
        return [self._seen(p) for p in sorted(found, key=lambda p: p.seat)]

    async def held_by(self, holder_id: str, event_id: str, request: PageRequest) -> Page[Pass]:
        rows = sorted(
            (
                p
                for p in self.uow.pass_state.values()
                if p.holder_id == holder_id
                and p.state is not PassState.VOID
                and (not event_id or p.event_id == event_id)
                and (
                    request.cursor is None
                    or (p.issued_at, p.id) < (request.cursor.created_at, request.cursor.id)
                )
            ),
            key=lambda p: (p.issued_at, p.id),
            reverse=True,
        )
        items = [self._seen(p) for p in rows[: request.limit]]
        more = len(rows) > request.limit
        token = Cursor(items[-1].issued_at, items[-1].id).encode() if more else ""
        return Page(items, token, has_next=more)

    async def offered_to(self, email: str) -> list[Pass]:
        return [
            self._seen(p)
            for p in self.uow.pass_state.values()
            if p.state is PassState.TRANSFER_OFFERED and p.offered_to == email
        ]


class _Admissions:
    def __init__(self, uow: FakeDeliveryUnitOfWork) -> None:
        self.uow = uow

    async def entered_at(self, event_id: str, pass_ids: list[str]) -> dict[str, datetime]:
        found = self.uow.store.admissions
        return {i: found[(event_id, i)] for i in pass_ids if (event_id, i) in found}


class FakeDeliveryUnitOfWork:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.deliveries = _Deliveries(self)
        self.sellers = _Records(self)
        self.files = _Files(self)
        self.passes = _Passes(self)
        self.admissions = _Admissions(self)

    async def __aenter__(self) -> FakeDeliveryUnitOfWork:
        store = self.store
        self.state, self.record_state, self.file_state, self.inbox = copy.deepcopy(
            (store.deliveries, store.records, store.files, store.inbox)
        )
        self.pass_state = copy.deepcopy(store.passes)
        self.passes.loaded = {}
        self.seen: list[Delivery | Pass] = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def already_processed(self, event_id: str) -> bool:
        if event_id in self.inbox:
            return True
        self.inbox.add(event_id)
        return False

    async def commit(self) -> None:
        events = [e for d in self.seen for e in d.events]
        for d in self.seen:
            d.events = []
        store = self.store
        store.deliveries, store.records, store.files, store.inbox = copy.deepcopy(
            (self.state, self.record_state, self.file_state, self.inbox)
        )
        store.passes = copy.deepcopy(self.pass_state)
        store.published.extend(events)
        store.commits += 1
