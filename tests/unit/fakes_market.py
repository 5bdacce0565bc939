"""In-memory stand-ins for the tickets and orders services' adapters, for unit tests of their
service layers.

They keep the contracts the Mongo adapters keep: a unit of work is a snapshot transaction
(nothing visible to others until commit; of two transactions that wrote the same document, or
inserted the same id, the second to commit fails with a transient error, so `retry_transient`
runs it again); events are published only on commit; an event id is processed once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from google.protobuf.message import Message

from common.errors import Unavailable
from common.idempotency import IdempotencyRecord, honoured_since
from common.retries import ConcurrentUpdate
from svc_orders.adapters import outbox_mapping as orders_outbox
from svc_orders.domain import events as order_events
from svc_orders.service_layer.ports import HeldSeats
from svc_tickets.adapters import outbox_mapping as tickets_outbox
from svc_tickets.service_layer.handlers import HoldSeats, TicketHandlers


def _integration(event: Any) -> Message:
    """The integration event a domain event goes out as, mapped where the service's unit of work
    maps it when it writes the outbox."""
    if isinstance(event, order_events.Event):
        return orders_outbox.to_integration(event)
    return tickets_outbox.to_integration(event)


def _detached(row: Any) -> Any:
    return dataclasses.replace(row, events=[]) if hasattr(row, "events") else row


@dataclass
class FakeStore:
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    stamps: dict[tuple[str, str], int] = field(default_factory=dict)
    published: list[Message] = field(default_factory=list)

    def table(self, name: str) -> dict[str, Any]:
        return self.tables.setdefault(name, {})

    def published_of(self, kind: type[Message]) -> list[Message]:
        return [e for e in self.published if isinstance(e, kind)]


class FakeRepository:
    def __init__(self, uow: FakeUnitOfWork, name: str) -> None:
        self.uow = uow
        self.name = name

    @property
    def rows(self) -> dict[str, Any]:
        return self.uow.view.setdefault(self.name, {})

    async def get(self, key: str) -> Any:
        row = self.rows.get(key)
        return None if row is None else self.uow.tracked(_detached(row))

    async def add(self, aggregate: Any) -> None:
        if aggregate.id in self.rows:
            raise ConcurrentUpdate(f"{self.name}/{aggregate.id} exists")  # duplicate _id
        self._write(aggregate)

    async def save(self, aggregate: Any) -> None:
        self._write(aggregate)

    async def many(self, keys: list[str]) -> list[Any]:
        return [_detached(self.rows[k]) for k in keys if k in self.rows]

    async def delete(self, aggregate: Any) -> None:
        del self.rows[aggregate.id]
        self.uow.written.add((self.name, aggregate.id))

    async def holding(self, order_id: str) -> Any:
        """The tickets service's listing that `order_id` holds seats of."""
        for row in self.rows.values():
            if any(h.order_id == order_id for h in row.holds):
                return self.uow.tracked(_detached(row))
        return None

    def _write(self, aggregate: Any) -> None:
        self.rows[aggregate.id] = _detached(aggregate)
        self.uow.written.add((self.name, aggregate.id))
        self.uow.tracked(aggregate)

    # The tickets service's sales windows (the catalogue's events), one row per event.
    async def window_of(self, event_id: str) -> Any:
        row = self.uow.view.setdefault("sales_windows", {}).get(event_id)
        return None if row is None else dataclasses.replace(row)

    async def save_window(self, window: Any) -> None:
        self.uow.view.setdefault("sales_windows", {})[window.event_id] = dataclasses.replace(window)
        self.uow.written.add(("sales_windows", window.event_id))

    async def open_ids_of_event(self, event_id: str, limit: int) -> list[str]:
        """The orders service's placed open orders of an event."""
        return [
            o.id
            for o in self.rows.values()
            if o.event_id == event_id and o.status.value in ("CREATED", "AWAITING_PAYMENT")
        ][:limit]

    # The tickets service's marks of orders, one document per order (held, ended).
    async def remember_ended(self, order_id: str) -> None:
        self._mark(order_id)["cancelled"] = True

    async def remember_hold(self, order_id: str) -> bool:
        mark = self._mark(order_id)
        mark["held"] = True
        return bool(mark.get("cancelled"))

    def _mark(self, order_id: str) -> dict[str, bool]:
        self.uow.written.add(("order_marks", order_id))
        return self.uow.view.setdefault("order_marks", {}).setdefault(order_id, {})


class FakeIdempotencyRecords:
    """Idempotency records, one row per (user, key): of two transactions claiming one key, the
    second to commit fails (as with the unique index)."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    @property
    def rows(self) -> dict[str, Any]:
        return self.uow.view.setdefault("idempotency", {})

    async def find(self, user_id: str, key: str, now) -> IdempotencyRecord | None:
        record = self.rows.get(f"{user_id}/{key}")
        return record if record and record.created_at >= honoured_since(now) else None

    async def claim(self, record: IdempotencyRecord) -> None:
        row = f"{record.user_id}/{record.key}"
        if await self.find(record.user_id, record.key, record.created_at) is not None:
            raise ConcurrentUpdate(f"idempotency/{row} exists")
        self.rows[row] = record
        self.uow.written.add(("idempotency", row))

    async def forget(self, user_id: str, key: str) -> None:
        row = f"{user_id}/{key}"
        self.rows.pop(row, None)
        self.uow.written.add(("idempotency", row))


class FakeUnitOfWork:
    def __init__(self, store: FakeStore, *tables: str) -> None:
        self.store = store
        self.tables = tables
        self.view: dict[str, dict[str, Any]] = {}
        self.written: set[tuple[str, str]] = set()
        self._stamps: dict[tuple[str, str], int] = {}
        self._seen: list[Any] = []

    async def __aenter__(self) -> FakeUnitOfWork:
        self.view = {
            name: {k: _detached(v) for k, v in rows.items()}
            for name, rows in self.store.tables.items()
        }
        self._stamps = dict(self.store.stamps)
        self.written, self._seen = set(), []
        for name in self.tables:
            setattr(self, name, FakeRepository(self, name))
        self.idempotency = FakeIdempotencyRecords(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.view = {}

    def tracked(self, aggregate: Any) -> Any:
        if not any(a is aggregate for a in self._seen):
            self._seen.append(aggregate)
        return aggregate

    async def already_processed(self, event_id: str) -> bool:
        processed = self.view.setdefault("processed", {})
        if event_id in processed:
            return True
        processed[event_id] = True
        self.written.add(("processed", event_id))
        return False

    async def commit(self) -> None:
        for key in self.written:  # first committer wins, as with Mongo's write conflicts
            if self.store.stamps.get(key, 0) != self._stamps.get(key, 0):
                raise ConcurrentUpdate(f"{key} was written by another transaction")
        for table, key in self.written:
            if key in self.view.get(table, {}):
                self.store.table(table)[key] = _detached(self.view[table][key])
            else:  # deleted
                self.store.table(table).pop(key, None)
            self.store.stamps[(table, key)] = self.store.stamps.get((table, key), 0) + 1
        for aggregate in self._seen:
            self.store.published.extend(_integration(e) for e in aggregate.events)
            aggregate.events = []


def uow_factory(store: FakeStore, *tables: str):
    return lambda: FakeUnitOfWork(store, *tables)


class InProcessSeatHolder:
    """The tickets service as orders asks it for seats: its own handlers, in process, over
    their own store; `reachable = False` makes the call fail as an outage would."""

    def __init__(self, tickets: TicketHandlers) -> None:
        self.tickets = tickets
        self.reachable = True
        self.asked: list[tuple[str, int, str]] = []

    async def hold_seats(self, ticket_id: str, quantity: int, order_id: str, buyer: str):
        self.asked.append((ticket_id, quantity, order_id))
        if not self.reachable:
            raise Unavailable("A service is unavailable, try again shortly")
        ticket, hold = await self.tickets.hold_seats(
            HoldSeats(ticket_id, quantity, order_id, buyer)
        )
        labels = ticket.details.seats_of(hold.seats)
        return HeldSeats(
            hold.seats,
            hold.price,
            ticket.currency_code,
            labels,
            ticket.event_id,
            seller_id=ticket.user_id,
            delivery_method=ticket.details.delivery_method.value,
            deliver_by=hold.deliver_by,
        )


class AlwaysHolds:
    """A tickets service that gives every order its seats at `price`, for tests about what
    orders does after (metrics, the bus)."""

    def __init__(self, price: str = "10.00", currency_code: str = "USD") -> None:
        self.price, self.currency_code = price, currency_code

    async def hold_seats(self, ticket_id: str, quantity: int, order_id: str, buyer: str):
        return HeldSeats(tuple(range(quantity)), Decimal(self.price), self.currency_code)
