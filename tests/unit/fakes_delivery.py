"""The delivery service's unit of work in memory, for its handlers' unit tests: committed state
is copied in and out, so a handler that raises (or does not commit) leaves nothing behind; the
events of a commit are kept in `published`."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from common.pagination import Cursor, Page, PageRequest
from svc_delivery.domain.deliveries import Delivery, SellerRecord
from svc_delivery.domain.methods import DeliveryStatus


class Store:
    def __init__(self) -> None:
        self.deliveries: dict[str, Delivery] = {}
        self.records: dict[str, SellerRecord] = {}
        self.files: dict[str, bytes] = {}
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


class FakeDeliveryUnitOfWork:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.deliveries = _Deliveries(self)
        self.sellers = _Records(self)
        self.files = _Files(self)

    async def __aenter__(self) -> FakeDeliveryUnitOfWork:
        store = self.store
        self.state, self.record_state, self.file_state, self.inbox = copy.deepcopy(
            (store.deliveries, store.records, store.files, store.inbox)
        )
        self.seen: list[Delivery] = []
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
        store.published.extend(events)
        store.commits += 1
