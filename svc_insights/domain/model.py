"""What insights keeps: one row per event, whatever its type, with the few columns the reports
and the recommender read (the contract in docs/analytics.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class EventRow:
    """One event as the store holds it. Columns an event type has nothing for are None."""

    event_id: str
    # The routing key: ticket.created, order.created, ticket.viewed...
    type: str
    # UTC.
    occurred_at: datetime
    # The actor when signed in: the seller on ticket.*, the buyer on order.created and
    # order.started, the viewer on ticket.viewed and tickets.browsed, the user on user.*.
    user_id: str | None = None
    # Behaviour events: the visitor's stable anonymous id.
    anonymous_id: str | None = None
    ticket_id: str | None = None
    # ticket.*: the order holding the ticket, '' when it is for sale.
    order_id: str | None = None
    # ticket.*: the ticket's owner.
    seller_id: str | None = None
    # ticket.*: the ticket's price; order.created: what the buyer pays; charge.created and
    # charge.pending: the amount charged.
    price: Decimal | None = None
    # ticket.*: the title.
    title: str | None = None
    # order.cancelled and charge.failed: the reason; charge.created and charge.pending: the
    # Stripe id; tickets.browsed: the query and the tickets shown, as JSON; event.changed and
    # event.status_changed: the event's id, version and status (event.changed: its performers'
    # ids, category, city and start too), as JSON.
    detail: str | None = None
    # ticket.*, order.created, order.cancelled, user.updated: the aggregate's version.
    version: int | None = None
    # ticket.*, order.created, charge.created and charge.pending: the ISO 4217 code of price
    # (USD for such an event from before v1, which named none: everything was USD then).
    currency: str | None = None
    # ticket.* and event.viewed: the catalogue event the listing is for, or that was viewed
    # (None for a ticket from before events, or a row from before this column).
    catalogue_event_id: str | None = None
    # order.created: the seats ordered (None from a producer before quantities: 1); ticket.*: the
    # seats listed.
    quantity: int | None = None
