"""Orders: a buyer's order of seats of a listing, how long it holds them, and how it ends.

Which seats an order holds is the tickets service's to decide (TicketsService.HoldSeats, the one
authority on availability): an order is committed here first, `pending`, then holds its seats
there, and is placed (OrderCreated) once it has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from common.errors import Conflict, InvalidInput, NotFound
from common.money import LEGACY_CURRENCY
from svc_orders.domain import events


class OrderStatus(StrEnum):
    CREATED = "CREATED"
    CANCELLED = "CANCELLED"
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    COMPLETE = "COMPLETE"


OPEN = frozenset({OrderStatus.CREATED, OrderStatus.AWAITING_PAYMENT})


class CancelReason(StrEnum):
    CANCELLED_BY_USER = "CANCELLED_BY_USER"
    EXPIRED = "EXPIRED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    EVENT_CALLED_OFF = "EVENT_CALLED_OFF"
    # Never placed: tickets refused its seats (never shown to anyone).
    SEATS_REFUSED = "SEATS_REFUSED"


@dataclass
class Order:
    id: str
    user_id: str
    ticket_id: str
    price: Decimal
    status: OrderStatus
    expires_at: datetime
    created_at: datetime
    version: int = 0
    # Why it is CANCELLED, which a buyer is shown (an expired order is not one they cancelled).
    cancel_reason: CancelReason | None = None
    # ISO 4217 code of price: the ticket's, copied when the order was placed.
    currency_code: str = LEGACY_CURRENCY
    quantity: int = 1
    # The seats held, by index in the listing (tickets' HoldSeats chose them).
    seats: tuple[int, ...] = ()
    # Committed, but its seats not yet held: not shown to anyone, not payable, no OrderCreated.
    pending: bool = False
    # The seats' labels when they are numbered, and the listing's catalogue event (empty for a
    # v1 ticket), as HoldSeats answered them.
    seat_labels: tuple[str, ...] = ()
    event_id: str = ""
    # The listing's seller, who is paid the proceeds (empty for an order placed before it was
    # recorded), as HoldSeats answered it.
    seller_id: str = ""
    # The delivery terms HoldSeats fixed (issue 22): the listing's method by name ("" for an
    # order placed before them: E_TICKET) and the deadline (None: not said).
    delivery_method: str = ""
    deliver_by: datetime | None = None
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @property
    def total(self) -> Decimal:
        return self.price * self.quantity

    @property
    def ended_unplaced(self) -> bool:
        """Ended (the expiry sweep) before it ever got its seats: no one was shown it."""
        return self.pending and self.status is OrderStatus.CANCELLED

    @classmethod
    def open(
        cls, id: str, buyer: str, ticket_id: str, quantity: int, now: datetime, hold_for: timedelta
    ) -> Order:
        """A new order, pending until its seats are held (`placed`). It expires as any order:
        one that never gets its seats (this process stopped) is ended by the expiry sweep."""
        if quantity < 1:
            raise InvalidInput("Quantity must be at least 1", field="quantity")
        return cls(
            id,
            buyer,
            ticket_id,
            Decimal(0),
            OrderStatus.CREATED,
            now + hold_for,
            now,
            quantity=quantity,
            pending=True,
        )

    def placed(
        self,
        seats: tuple[int, ...],
        price: Decimal,
        currency_code: str,
        seat_labels: tuple[str, ...] = (),
        event_id: str = "",
        seller_id: str = "",
        delivery_method: str = "",
        deliver_by: datetime | None = None,
    ) -> bool:
        """Its seats are held, at `price` per ticket: the order is placed (OrderCreated). False
        when it already was, or ended meanwhile (the sweep expired it)."""
        if not self.pending or self.status is not OrderStatus.CREATED:
            return False
        self.pending = False
        self.seats, self.price, self.currency_code = seats, price, currency_code
        self.seat_labels, self.event_id, self.seller_id = seat_labels, event_id, seller_id
        self.delivery_method, self.deliver_by = delivery_method, deliver_by
        self.events.append(
            events.OrderCreated(
                id=self.id,
                version=self.version,
                status=self.status,
                user_id=self.user_id,
                expires_at=self.expires_at,
                ticket_id=self.ticket_id,
                price=price,
                currency_code=currency_code,
                quantity=self.quantity,
                seller_id=seller_id,
                event_id=event_id,
                delivery_method=delivery_method,
                deliver_by=deliver_by,
                seat_labels=seat_labels,
            )
        )
        return True

    def cancel(self, by: str) -> bool:
        """The buyer cancels: False, changing nothing, when it is already CANCELLED (for any
        reason: the state asked for is reached, and a retried cancel is not an error, IDEM-7)."""
        if by != self.user_id or self.pending:  # another's order is not even shown
            raise NotFound("Order not found", field="id")
        if self.status is OrderStatus.CANCELLED:
            return False
        if self.status not in OPEN:
            raise Conflict(f"A {self.status.value.lower()} order cannot be cancelled")
        self._cancel(CancelReason.CANCELLED_BY_USER)
        return True

    def expire(self) -> bool:
        """Its time is up: cancelled unless paid (or already cancelled)."""
        if self.status not in OPEN:
            return False
        self._cancel(CancelReason.EXPIRED)
        return True

    def refused(self) -> bool:
        """Tickets refused its seats: a pending order ends, never placed."""
        if not self.pending or self.status is not OrderStatus.CREATED:
            return False
        self._cancel(CancelReason.SEATS_REFUSED)
        return True

    def event_called_off(self) -> bool:
        """Its event was cancelled or postponed: an unpaid order ends (a paid one is refunded,
        which is the payments side's)."""
        if self.status not in OPEN:
            return False
        self._cancel(CancelReason.EVENT_CALLED_OFF)
        return True

    def payment_failed(self) -> bool:
        if self.status not in OPEN:
            return False
        self._cancel(CancelReason.PAYMENT_FAILED)
        return True

    def await_payment(self) -> bool:
        if self.status is not OrderStatus.CREATED:
            return False
        self._update(OrderStatus.AWAITING_PAYMENT)
        return True

    def complete(self) -> bool:
        """Paid. A cancelled order stays cancelled (payments refunds a late charge)."""
        if self.status not in OPEN:
            return False
        self._update(OrderStatus.COMPLETE)
        return True

    def _update(self, status: OrderStatus) -> None:
        self.status = status
        self.version += 1
        self.events.append(
            events.OrderUpdated(
                id=self.id, version=self.version, status=status, user_id=self.user_id
            )
        )

    def _cancel(self, reason: CancelReason) -> None:
        self.status = OrderStatus.CANCELLED
        self.cancel_reason = reason
        self.version += 1
        self.events.append(
            events.OrderCancelled(
                id=self.id,
                version=self.version,
                ticket_id=self.ticket_id,
                reason=reason,
                never_placed=self.pending,
            )
        )
