"""A known stream of events, as their publishers send them, replayed through the insights
service's own consumer (entrypoints/events.py) into its store: report tests say exactly what
happened and when, and read it back the way the running service would have kept it."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

from google.protobuf.message import Message

from common.bus import Delivery
from common.clock import FrozenClock
from common.events import routing_key, type_name
from common.money import to_cents
from common.protos import timestamp
from svc_insights.adapters.duckdb_store import DuckDBEventStore
from svc_insights.entrypoints.events import event_handlers
from svc_insights.service_layer.handlers import InsightsHandlers
from ticketing.events.v1 import behaviour_pb2, orders_pb2, payments_pb2, tickets_pb2, users_pb2
from ticketing.orders.v1 import orders_pb2 as orders_api


def at(text: str) -> datetime:
    """'2026-03-01 10:30:01' in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class EventStream:
    """Events in the order they are added; each gets the next event id. Behaviour events carry
    their time themselves; the others are stamped by the bus (`Delivery.occurred_at`)."""

    events: list[tuple[Message, Delivery]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add(self, when: str, event: Message) -> EventStream:
        delivery = Delivery(
            f"e{next(self._ids)}", type_name(event), routing_key(event), 1, "test", at(when)
        )
        self.events.append((event, delivery))
        return self

    def ticket_created(self, when: str, ticket: str, seller: str, price: str, title: str = ""):
        return self.add(
            when,
            tickets_pb2.TicketCreated(
                id=ticket, version=0, title=title or f"title of {ticket}", price=price,
                user_id=seller,
            ),
        )  # fmt: skip

    def ticket_updated(
        self, when: str, ticket: str, seller: str, price: str, title: str, version: int, order=""
    ):
        return self.add(
            when,
            tickets_pb2.TicketUpdated(
                id=ticket, version=version, title=title, price=price, user_id=seller,
                order_id=order,
            ),
        )  # fmt: skip

    def viewed(self, when: str, ticket: str, user: str = "", anonymous: str = ""):
        return self.add(
            when,
            behaviour_pb2.TicketViewed(
                ticket_id=ticket, user_id=user, anonymous_id=anonymous,
                occurred_at=timestamp(at(when)),
            ),
        )  # fmt: skip

    def browsed(self, when: str, user: str = "", anonymous: str = ""):
        return self.add(
            when,
            behaviour_pb2.TicketsBrowsed(
                user_id=user, anonymous_id=anonymous, first=20, occurred_at=timestamp(at(when))
            ),
        )

    def order_started(self, when: str, ticket: str, user: str, anonymous: str = ""):
        return self.add(
            when,
            behaviour_pb2.OrderStarted(
                ticket_id=ticket, user_id=user, anonymous_id=anonymous,
                occurred_at=timestamp(at(when)),
            ),
        )  # fmt: skip

    def order_created(self, when: str, order: str, ticket: str, buyer: str, price: str):
        return self.add(
            when,
            orders_pb2.OrderCreated(
                id=order,
                version=0,
                status=orders_api.ORDER_STATUS_CREATED,
                user_id=buyer,
                expires_at=timestamp(at(when)),
                ticket=orders_pb2.OrderCreated.Ticket(id=ticket, price=price),
            ),
        )

    def order_cancelled(self, when: str, order: str, ticket: str, reason: str):
        return self.add(
            when,
            orders_pb2.OrderCancelled(
                id=order, version=1, ticket=orders_pb2.OrderCancelled.Ticket(id=ticket),
                reason=reason,
            ),
        )  # fmt: skip

    def order_expired(self, when: str, order: str):
        return self.add(when, orders_pb2.OrderExpired(order_id=order))

    def charge_created(self, when: str, order: str, price: str):
        return self.add(
            when,
            payments_pb2.ChargeCreated(
                id=f"pay-{order}", order_id=order, stripe_id=f"pi_{order}", amount=to_cents(price)
            ),
        )

    def charge_pending(self, when: str, order: str, price: str):
        return self.add(
            when,
            payments_pb2.ChargePending(
                id=f"pay-{order}", order_id=order, stripe_id=f"pi_{order}", amount=to_cents(price)
            ),
        )

    def charge_failed(self, when: str, order: str, reason: str = "Your card was declined."):
        return self.add(when, payments_pb2.ChargeFailed(order_id=order, reason=reason))

    def user_created(self, when: str, user: str):
        return self.add(when, users_pb2.UserCreated(id=user, email=f"{user}@example.com"))

    async def store_into(self, store: DuckDBEventStore) -> None:
        """Each event through the consumer's handler for its type, as the bus delivers it, one
        after the other."""
        handlers = _handlers(store)
        for event, delivery in self.events:
            await handlers[type(event)](event, delivery)

    async def store_in_batches(self, store: DuckDBEventStore, order: list[int], size: int):
        """The events in `order` (indexes, repeats allowed: a redelivery), `size` at a time
        handled at once, as a consumer with messages in flight: the store commits each handful
        in one batch (the first of each alone)."""
        handlers = _handlers(store)
        for start in range(0, len(order), size):
            chosen = (self.events[n] for n in order[start : start + size])
            await asyncio.gather(*(handlers[type(e)](e, d) for e, d in chosen))


def _handlers(store: DuckDBEventStore):
    return event_handlers(InsightsHandlers(store), FrozenClock(at("2030-01-01 00:00:00")))
