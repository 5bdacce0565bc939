"""Tickets (listings): what a seller may list and change, and which order holds which seats.

This service is the one authority on availability (issue 20; docs/design/marketplace.md,
decision 1): a listing of `quantity` seats, each for sale, held by one order, sold to it, or
withdrawn, decided in one transaction on the listing's document. A v1 ticket is a listing of
one seat with no event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from common.errors import Conflict, Forbidden, InvalidInput
from common.money import LEGACY_CURRENCY, parse_price
from svc_tickets.domain import events
from svc_tickets.domain.listing import ListingDetails
from svc_tickets.domain.split import SplitRule, check_hold, check_listed_quantity

MAX_TITLE = 200


def check_title(raw: str) -> str:
    title = (raw or "").strip()
    if not title:
        raise InvalidInput("Title is required", field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"Title must be at most {MAX_TITLE} characters", field="title")
    return title


class TicketState(StrEnum):
    """Where a listing stands, for a buyer."""

    FOR_SALE = "FOR_SALE"  # seats are for sale
    HELD = "HELD"  # none for sale; an open order holds some
    SOLD = "SOLD"  # none for sale; every seat not withdrawn is sold
    WITHDRAWN = "WITHDRAWN"  # the seller took it off sale and no order holds or bought a seat


@dataclass
class SeatHold:
    """Seats (indexes 0..quantity-1 of the listing) an order holds, at the price per ticket of
    the moment it took them; `sold` once the order is paid (final)."""

    order_id: str
    seats: tuple[int, ...]
    price: Decimal
    sold: bool = False
    # The delivery deadline fixed when the seats were held (issue 22); None for holds before it.
    deliver_by: datetime | None = None


class OrderEnded(Conflict):
    """HoldSeats for an order whose cancellation already reached this service."""

    def __init__(self) -> None:
        super().__init__("The order has already ended", field="order_id")


@dataclass
class Ticket:
    id: str
    title: str
    price: Decimal
    user_id: str
    created_at: datetime
    version: int = 0
    # ISO 4217 code of price, chosen when listed and never changed (common.money.CURRENCIES).
    currency_code: str = LEGACY_CURRENCY
    # The seller took it off sale (final): seats not held or sold are no longer for sale.
    withdrawn: bool = False
    quantity: int = 1
    split_rule: SplitRule = SplitRule.ANY
    # The catalogue event it is for; empty for a v1 ticket.
    event_id: str = ""
    details: ListingDetails = field(default_factory=ListingDetails)
    holds: list[SeatHold] = field(default_factory=list)
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @property
    def taken(self) -> int:
        """Seats held or sold."""
        return sum(len(h.seats) for h in self.holds)

    @property
    def available(self) -> int:
        """Seats for sale now."""
        return 0 if self.withdrawn else self.quantity - self.taken

    @property
    def order_id(self) -> str | None:
        """The order holding (or that bought) a one-seat listing: the v1 ticket's holder."""
        return self.holds[0].order_id if self.quantity == 1 and self.holds else None

    @property
    def reserved(self) -> bool:
        return self.available == 0 and bool(self.holds)

    @property
    def state(self) -> TicketState:
        if self.available > 0:
            return TicketState.FOR_SALE
        if any(not h.sold for h in self.holds):
            return TicketState.HELD
        if self.holds:
            return TicketState.SOLD
        return TicketState.WITHDRAWN

    def hold_of(self, order_id: str) -> SeatHold | None:
        return next((h for h in self.holds if h.order_id == order_id), None)

    @classmethod
    def list(
        cls,
        id: str,
        title: str,
        price: str | Decimal,
        currency_code: str,
        seller: str,
        now: datetime,
        quantity: int = 1,
        split_rule: SplitRule = SplitRule.ANY,
        event_id: str = "",
        details: ListingDetails | None = None,
    ) -> Ticket:
        """`currency_code` is already checked (common.money.parse_currency); `details` too, and
        that `event_id`, if given, may sell now (SalesWindow.check_open). A listing for an
        event is named by where its seats are unless the seller gives a title."""
        check_listed_quantity(split_rule, quantity)
        details = details or ListingDetails()
        if event_id and not (title or "").strip():
            title = details.title()
        ticket = cls(
            id,
            check_title(title),
            parse_price(price),
            seller,
            now,
            currency_code=currency_code,
            quantity=quantity,
            split_rule=split_rule,
            event_id=event_id,
            details=details,
        )
        ticket.events.append(
            events.TicketCreated(
                id=id,
                version=0,
                title=ticket.title,
                price=ticket.price,
                user_id=seller,
                currency_code=currency_code,
                event_id=ticket.event_id,
                quantity=ticket.quantity,
                available=ticket.available,
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

    def is_edited_as(
        self, title: str | None, price: Decimal | None, quantity: int | None = None
    ) -> bool:
        return (
            not self.withdrawn
            and (title is None or title == self.title)
            and (price is None or price == self.price)
            and (quantity is None or quantity == self.quantity)
        )

    def update(
        self,
        by: str,
        title: str | None,
        price: str | Decimal | None,
        quantity: int | None = None,
    ) -> None:
        """The seller's edit; None leaves a field unchanged. Seats already held keep the price
        their order took them at; a listing with nothing left for sale cannot be edited. The
        quantity may grow, or shrink to what is held or sold, under the split rule; numbered
        seats are listed once, so their quantity stays."""
        self.check_seller(by)
        if self.withdrawn:
            raise Conflict("A withdrawn ticket cannot be changed", field="id")
        self._check_something_for_sale()
        new_title = self.title if title is None else check_title(title)
        new_price = self.price if price is None else parse_price(price)
        if quantity is not None and quantity != self.quantity:
            self._check_new_quantity(quantity)
            self.quantity = quantity
        self.title, self.price = new_title, new_price
        self._changed()

    def _check_new_quantity(self, quantity: int) -> None:
        check_listed_quantity(self.split_rule, quantity)
        if self.details.seat_labels:
            raise InvalidInput(
                "The seats of this listing are numbered: list others in a new listing",
                field="quantity",
            )
        highest_taken = max((s for h in self.holds for s in h.seats), default=-1)
        if quantity <= highest_taken:
            raise Conflict(
                f"{self.taken} of these tickets are held or sold: the quantity cannot go below "
                f"{highest_taken + 1}",
                field="quantity",
            )

    def withdraw(self, by: str) -> None:
        """The seats for sale are off sale for good; those held or sold are not affected."""
        self.check_seller(by)
        if self.withdrawn:
            raise Conflict("The ticket is already withdrawn", field="id")
        self._check_something_for_sale()
        self.withdrawn = True
        self._changed()

    def _check_something_for_sale(self) -> None:
        if self.available == 0:
            raise Conflict("Ticket is reserved and cannot be changed", field="id")

    def hold(
        self, order_id: str, quantity: int, buyer: str, deliver_by: datetime | None = None
    ) -> tuple[SeatHold, bool]:
        """`quantity` seats held by `order_id`, the lowest-numbered free ones, at today's
        price, to be delivered by `deliver_by`; the same hold again (and False) when the order
        already has one (a retry)."""
        existing = self.hold_of(order_id)
        if existing is not None:
            return existing, False
        if buyer == self.user_id:
            raise Forbidden("You cannot buy your own ticket")
        if self.withdrawn:
            raise Conflict("The seller withdrew this ticket", field="ticket_id")
        if self.quantity == 1 and self.available == 0 and quantity == 1:
            raise Conflict("Ticket is already reserved", field="ticket_id")
        check_hold(self.split_rule, quantity, self.available)
        taken = {seat for h in self.holds for seat in h.seats}
        seats = tuple(s for s in range(self.quantity) if s not in taken)[:quantity]
        hold = SeatHold(order_id, seats, self.price, deliver_by=deliver_by)
        self.holds.append(hold)
        self._changed()
        return hold, True

    def release(self, order_id: str) -> bool:
        """The order ended unpaid: its seats are for sale again (unless withdrawn). False when
        it holds nothing here (never held, already released) or its seats are sold."""
        hold = self.hold_of(order_id)
        if hold is None or hold.sold:
            return False
        self.holds.remove(hold)
        self._changed()
        return True

    def sell(self, order_id: str) -> bool:
        """The order is paid: its seats are sold (final). False when already sold or it holds
        nothing here."""
        hold = self.hold_of(order_id)
        if hold is None or hold.sold:
            return False
        hold.sold = True
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
                event_id=self.event_id,
                quantity=self.quantity,
                available=self.available,
                state=self.state.value,
            )
        )
