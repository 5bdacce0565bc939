"""Orders: who may hold which ticket, for how long, and how an order ends.

The orders service keeps its own copy of every ticket (from TicketCreated / TicketUpdated,
applied strictly in version order) and decides here, in one transaction per order, which order
holds a ticket: `TicketCopy.held_by`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from common.errors import Conflict, Forbidden, NotFound, NotYet
from common.money import LEGACY_CURRENCY
from svc_orders.domain import events


class OrderStatus(StrEnum):
    CREATED = "CREATED"
    CANCELLED = "CANCELLED"
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    COMPLETE = "COMPLETE"


# An order in one of these holds its ticket; no other order may take it.
HOLDING = frozenset({OrderStatus.CREATED, OrderStatus.AWAITING_PAYMENT, OrderStatus.COMPLETE})
OPEN = frozenset({OrderStatus.CREATED, OrderStatus.AWAITING_PAYMENT})


class TicketState(StrEnum):
    """A ticket's state, decided here (the authority on holds, docs/api.md DOM-2)."""

    FOR_SALE = "FOR_SALE"
    HELD = "HELD"
    SOLD = "SOLD"
    WITHDRAWN = "WITHDRAWN"


class CancelReason(StrEnum):
    CANCELLED_BY_USER = "CANCELLED_BY_USER"
    EXPIRED = "EXPIRED"
    PAYMENT_FAILED = "PAYMENT_FAILED"


@dataclass
class TicketCopy:
    id: str
    version: int
    title: str
    price: Decimal
    user_id: str
    held_by: str | None = None
    # ISO 4217 code of price (the ticket's, never changed).
    currency_code: str = LEGACY_CURRENCY
    # The seller took it off sale (final): no order may be placed on it.
    withdrawn: bool = False
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    def apply(
        self,
        version: int,
        title: str,
        price: Decimal,
        user_id: str,
        currency_code: str = "",
        withdrawn: bool = False,
    ) -> bool:
        """A TicketUpdated: applied only as the next version; False for one already applied.
        An event without a currency (an older producer) leaves it unchanged."""
        if version <= self.version:
            return False
        if version > self.version + 1:
            raise NotYet(f"ticket {self.id} v{version} arrived before v{self.version + 1}")
        self.version, self.title, self.price, self.user_id = version, title, price, user_id
        self.currency_code = currency_code or self.currency_code
        self.withdrawn = withdrawn
        return True

    def state(self, holder: Order | None) -> TicketState:
        """`holder` is the order `held_by` names, if any."""
        if holder is not None and holder.status in OPEN:
            return TicketState.HELD
        if holder is not None and holder.status is OrderStatus.COMPLETE:
            return TicketState.SOLD
        return TicketState.WITHDRAWN if self.withdrawn else TicketState.FOR_SALE

    def edit(
        self,
        by: str,
        version: int,
        title: str,
        price: Decimal,
        holder: Order | None,
        withdraw: bool = False,
    ) -> None:
        """The seller's edit, asked by the tickets service before it commits it; `holder` is
        the order `held_by` names, if any. Deciding here, in the transaction that also places
        orders, is what keeps an edit from landing under an order.

        The edit's version may be ahead of this copy (the TicketUpdated events of a reserve and
        a release still on their way: they change neither title nor price, which only edits do,
        and edits all pass here), so the copy jumps to it and ignores those events when they
        come. A version this copy already has is the same edit asked again (the tickets service
        failed to commit it and retries, or gives back what it committed after losing a race
        between two edits): its values are taken again.

        `withdraw` takes the ticket off sale for good: from then on no order is placed on it
        and no edit changes it (should a withdrawal lose to an edit in the tickets service,
        that edit's values given back here are refused too; the seller withdraws again)."""
        if by != self.user_id:
            raise Forbidden("Only the seller can change a ticket")
        if holder is not None and holder.status in HOLDING:
            raise Conflict("Ticket is reserved and cannot be changed")
        if self.withdrawn and not withdraw:
            raise Conflict("Ticket is withdrawn and cannot be changed")
        self.version = max(self.version, version)
        self.title, self.price, self.withdrawn = title, price, withdraw


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
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def place(
        cls,
        id: str,
        buyer: str,
        ticket: TicketCopy,
        holder: Order | None,
        now: datetime,
        hold_for: timedelta,
    ) -> Order:
        """A new order holding `ticket`; `holder` is the order holding it now, if any."""
        if ticket.user_id == buyer:
            raise Forbidden("You cannot buy your own ticket")
        if ticket.withdrawn:
            raise Conflict("The seller withdrew this ticket", field="ticket_id")
        if holder is not None and holder.status in HOLDING:
            raise Conflict("Ticket is already reserved")
        order = cls(
            id,
            buyer,
            ticket.id,
            ticket.price,
            OrderStatus.CREATED,
            now + hold_for,
            now,
            currency_code=ticket.currency_code,
        )
        ticket.held_by = id
        order.events.append(
            events.OrderCreated(
                id=id,
                version=0,
                status=OrderStatus.CREATED,
                user_id=buyer,
                expires_at=order.expires_at,
                ticket_id=ticket.id,
                price=ticket.price,
                currency_code=ticket.currency_code,
            )
        )
        return order

    def cancel(self, by: str) -> bool:
        """The buyer cancels: False, changing nothing, when it is already CANCELLED (for any
        reason: the state asked for is reached, and a retried cancel is not an error, IDEM-7)."""
        if by != self.user_id:  # another's order is not even shown
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

    def release(self, ticket: TicketCopy | None) -> None:
        if ticket is not None and ticket.held_by == self.id:
            ticket.held_by = None

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
                id=self.id, version=self.version, ticket_id=self.ticket_id, reason=reason
            )
        )
