"""Tickets: what a seller may list and change, and how orders hold and release them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from google.protobuf.message import Message

from common.errors import Forbidden, InvalidInput
from common.money import format_money, parse_price
from ticketing.events.v1 import tickets_pb2

MAX_TITLE = 200


def check_title(raw: str) -> str:
    title = (raw or "").strip()
    if not title:
        raise InvalidInput("Title is required", field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"Title must be at most {MAX_TITLE} characters", field="title")
    return title


class HeldByAnotherOrder(Exception):
    """An order asked to reserve a ticket another order still holds."""


@dataclass
class Ticket:
    id: str
    title: str
    price: Decimal
    user_id: str
    created_at: datetime
    version: int = 0
    order_id: str | None = None
    events: list[Message] = field(default_factory=list, repr=False, compare=False)

    @property
    def reserved(self) -> bool:
        return self.order_id is not None

    @classmethod
    def list(cls, id: str, title: str, price: str | Decimal, seller: str, now: datetime) -> Ticket:
        ticket = cls(id, check_title(title), parse_price(price), seller, now)
        ticket.events.append(
            tickets_pb2.TicketCreated(
                id=id,
                version=0,
                title=ticket.title,
                price=format_money(ticket.price),
                user_id=seller,
            )
        )
        return ticket

    def update(self, by: str, title: str, price: str | Decimal) -> None:
        """The seller's edit. Whether an order holds the ticket is not decided here: the orders
        service is the authority on holds and refuses the edit (CONFLICT) before it is
        committed; `order_id` here only follows its events, a little late."""
        if by != self.user_id:
            raise Forbidden("Only the seller can change a ticket")
        self.title, self.price = check_title(title), parse_price(price)
        self._changed()

    def reserve(self, order_id: str, price: Decimal | None = None) -> bool:
        """Held by `order_id` from now on; False if it already was (a redelivered event).

        `price` is what the order's buyer pays. It differs from ours only when an edit reached
        the orders service but was never committed here (we stopped in between): the sold
        ticket then shows the price that was paid."""
        if self.order_id == order_id:
            return False
        if self.order_id is not None:
            raise HeldByAnotherOrder(f"ticket {self.id} is held by order {self.order_id}")
        self.order_id = order_id
        if price is not None:
            self.price = price
        self._changed()
        return True

    def release(self, order_id: str) -> bool:
        """Free again, if `order_id` was the order holding it."""
        if self.order_id != order_id:
            return False
        self.order_id = None
        self._changed()
        return True

    def _changed(self) -> None:
        self.version += 1
        self.events.append(
            tickets_pb2.TicketUpdated(
                id=self.id,
                version=self.version,
                title=self.title,
                price=format_money(self.price),
                user_id=self.user_id,
                order_id=self.order_id or "",
            )
        )
