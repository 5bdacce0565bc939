"""Tickets: what a seller may list and change, and how orders hold and release them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from common.errors import Conflict, Forbidden, InvalidInput
from common.money import LEGACY_CURRENCY, parse_price
from svc_tickets.domain import events

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
    # ISO 4217 code of price, chosen when listed and never changed (common.money.CURRENCIES).
    currency_code: str = LEGACY_CURRENCY
    # The seller took it off sale (final).
    withdrawn: bool = False
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @property
    def reserved(self) -> bool:
        return self.order_id is not None

    @classmethod
    def list(
        cls,
        id: str,
        title: str,
        price: str | Decimal,
        currency_code: str,
        seller: str,
        now: datetime,
    ) -> Ticket:
        """`currency_code` is already checked (common.money.parse_currency)."""
        ticket = cls(
            id, check_title(title), parse_price(price), seller, now, currency_code=currency_code
        )
        ticket.events.append(
            events.TicketCreated(
                id=id,
                version=0,
                title=ticket.title,
                price=ticket.price,
                user_id=seller,
                currency_code=currency_code,
            )
        )
        return ticket

    def check_seller(self, by: str) -> None:
        if by != self.user_id:
            raise Forbidden("Only the seller can change a ticket")

    def check_version(self, expected: int, asked_done: bool) -> bool:
        """The client's `expected` version (DOM-4): True when the ticket is at it; False when it
        already is what the request asks (`asked_done`) one version later: our own change,
        answered again (IDEM-7). Otherwise CONFLICT on expected_version."""
        if self.version == expected:
            return True
        if self.version == expected + 1 and asked_done:
            return False
        raise Conflict(
            f"The ticket changed since version {expected} (it is at {self.version}); read it again",
            field="expected_version",
        )

    def is_edited_as(self, title: str | None, price: Decimal | None) -> bool:
        return (
            not self.withdrawn
            and (title is None or title == self.title)
            and (price is None or price == self.price)
        )

    def moved_by_another_edit(self, read: Ticket) -> bool:
        """Since `read` (an older version of this ticket), did the seller change it? Reserves
        and releases change only the version and the hold, and a reserve the price an order
        was placed at (see `reserve`): those are not edits."""
        return (
            self.title != read.title
            or self.withdrawn != read.withdrawn
            or (self.price != read.price and self.order_id is None)
        )

    def update(self, by: str, title: str | None, price: str | Decimal | None) -> None:
        """The seller's edit; None leaves a field unchanged. Whether an order holds the ticket
        is not decided here: the orders service is the authority on holds and refuses the edit
        (CONFLICT) before it is committed; `order_id` here only follows its events, a little
        late."""
        self.check_seller(by)
        if self.withdrawn:
            raise Conflict("A withdrawn ticket cannot be changed", field="id")
        new_title = self.title if title is None else check_title(title)
        new_price = self.price if price is None else parse_price(price)
        self.title, self.price = new_title, new_price
        self._changed()

    def withdraw(self, by: str) -> None:
        """Off sale for good. Like an edit, settled first by the orders service (no order may
        hold it)."""
        self.check_seller(by)
        if self.withdrawn:
            raise Conflict("The ticket is already withdrawn", field="id")
        self.withdrawn = True
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
            events.TicketUpdated(
                id=self.id,
                version=self.version,
                title=self.title,
                price=self.price,
                user_id=self.user_id,
                order_id=self.order_id,
                currency_code=self.currency_code,
                withdrawn=self.withdrawn,
            )
        )
