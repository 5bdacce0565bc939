"""A known stream of events for the insights store, built row by row as the consumer stores them
(the contract's `events` columns), so report tests say exactly what happened and when."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb

# The contract's table (ISSUE11), until the store's own schema is there.
EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS events (
  event_id     VARCHAR PRIMARY KEY,
  type         VARCHAR NOT NULL,
  occurred_at  TIMESTAMP NOT NULL,
  user_id      VARCHAR,
  anonymous_id VARCHAR,
  ticket_id    VARCHAR,
  order_id     VARCHAR,
  seller_id    VARCHAR,
  price        DECIMAL(18, 2),
  title        VARCHAR,
  detail       VARCHAR,
  version      INTEGER
)
"""

COLUMNS = (
    "event_id",
    "type",
    "occurred_at",
    "user_id",
    "anonymous_id",
    "ticket_id",
    "order_id",
    "seller_id",
    "price",
    "title",
    "detail",
    "version",
)


def at(text: str) -> datetime:
    """'2026-03-01 10:30:01' as a naive UTC datetime."""
    return datetime.fromisoformat(text)


@dataclass
class EventStream:
    """Events in the order they are added; each gets the next event id."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add(self, type: str, when: str, **columns: Any) -> EventStream:
        self.rows.append(
            {"event_id": f"e{next(self._ids)}", "type": type, "occurred_at": at(when), **columns}
        )
        return self

    def ticket_created(self, when: str, ticket: str, seller: str, price: str, title: str = ""):
        return self.add(
            "ticket.created",
            when,
            ticket_id=ticket,
            user_id=seller,
            seller_id=seller,
            price=Decimal(price),
            title=title or f"title of {ticket}",
            version=0,
            order_id="",
        )

    def ticket_updated(
        self, when: str, ticket: str, seller: str, price: str, title: str, version: int, order=""
    ):
        return self.add(
            "ticket.updated",
            when,
            ticket_id=ticket,
            user_id=seller,
            seller_id=seller,
            price=Decimal(price),
            title=title,
            version=version,
            order_id=order,
        )

    def viewed(self, when: str, ticket: str, user: str = "", anonymous: str = ""):
        return self.add(
            "ticket.viewed", when, ticket_id=ticket, user_id=user, anonymous_id=anonymous
        )

    def browsed(self, when: str, user: str = "", anonymous: str = ""):
        return self.add(
            "tickets.browsed", when, user_id=user, anonymous_id=anonymous, detail='{"first":20}'
        )

    def order_started(self, when: str, ticket: str, user: str, anonymous: str = ""):
        return self.add(
            "order.started", when, ticket_id=ticket, user_id=user, anonymous_id=anonymous
        )

    def order_created(self, when: str, order: str, ticket: str, buyer: str, price: str):
        return self.add(
            "order.created",
            when,
            order_id=order,
            ticket_id=ticket,
            user_id=buyer,
            price=Decimal(price),
            version=0,
        )

    def order_cancelled(self, when: str, order: str, ticket: str, reason: str):
        return self.add(
            "order.cancelled", when, order_id=order, ticket_id=ticket, detail=reason, version=1
        )

    def order_expired(self, when: str, order: str):
        return self.add("order.expired", when, order_id=order)

    def charge_created(self, when: str, order: str):
        return self.add("charge.created", when, order_id=order, detail=f"pi_{order}")

    def charge_pending(self, when: str, order: str):
        return self.add("charge.pending", when, order_id=order, detail=f"pi_{order}")

    def charge_failed(self, when: str, order: str, reason: str = "Your card was declined."):
        return self.add("charge.failed", when, order_id=order, detail=reason)

    def user_created(self, when: str, user: str):
        return self.add("user.created", when, user_id=user)

    def store_into(self, connection: duckdb.DuckDBPyConnection) -> None:
        connection.execute(EVENTS_DDL)
        if not self.rows:
            return
        placeholders = ", ".join("?" for _ in COLUMNS)
        connection.executemany(
            f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({placeholders})",
            [[row.get(column) for column in COLUMNS] for row in self.rows],
        )
