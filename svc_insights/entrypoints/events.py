"""Every event on the exchange, translated into the one row insights keeps of it.

Insights consumes the whole catalogue (common.events reads it from proto/), so an event type
added later is recorded from its first day: with its id, type and time only until a mapping
here says which columns it fills (a unit test lists the types without one).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from google.protobuf.message import Message

from common import events
from common.bus import Delivery, Handler, PoisonMessage
from common.clock import Clock
from common.money import LEGACY_CURRENCY, from_cents
from common.protos import from_timestamp
from svc_insights.domain.model import EventRow
from svc_insights.service_layer.handlers import InsightsHandlers
from ticketing.events.v1 import (
    behaviour_pb2,
    catalogue_pb2,
    delivery_pb2,
    orders_pb2,
    payments_pb2,
    tickets_pb2,
    users_pb2,
)
from ticketing.orders.v1 import orders_pb2 as order_status_pb2
from ticketing.tickets.v1 import tickets_pb2 as tickets_v1_pb2

log = logging.getLogger(__name__)

# The columns an event fills besides event_id, type and occurred_at.
Columns = dict[str, Any]


def _money(raw: str, what: str) -> Decimal | None:
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise PoisonMessage(f"{what} is not a decimal: {raw!r}") from None
    if not value.is_finite():
        raise PoisonMessage(f"{what} is not a decimal: {raw!r}")
    return value


def _or_none(value: str) -> str | None:
    return value or None


def _currency(code: str) -> str:
    """An amount's ISO 4217 code; an event from before v1 names none: USD, as all were then."""
    return code.strip().upper() or LEGACY_CURRENCY


def _ticket_created(event: tickets_pb2.TicketCreated | tickets_pb2.TicketUpdated) -> Columns:
    return {
        "user_id": _or_none(event.user_id),
        "ticket_id": event.id,
        "order_id": "",
        "seller_id": _or_none(event.user_id),
        "price": _money(event.price, "price"),
        "currency": _currency(event.currency_code),
        "title": event.title,
        "version": event.version,
        "catalogue_event_id": _or_none(event.event_id),
        "quantity": event.quantity or None,
    }


def _ticket_updated(event: tickets_pb2.TicketUpdated) -> Columns:
    # As created, with the order holding the ticket ('' when it is for sale).
    return {**_ticket_created(event), "order_id": event.order_id}


def _order_created(event: orders_pb2.OrderCreated) -> Columns:
    return {
        "user_id": _or_none(event.user_id),
        "order_id": event.id,
        "ticket_id": _or_none(event.ticket.id),
        "price": _money(event.ticket.price, "ticket.price"),
        "currency": _currency(event.ticket.currency_code),
        "version": event.version,
        "quantity": event.ticket.quantity or None,
    }


def _order_cancelled(event: orders_pb2.OrderCancelled) -> Columns:
    return {
        "order_id": event.id,
        "ticket_id": _or_none(event.ticket.id),
        "detail": _or_none(event.reason),
        "version": event.version,
    }


def _order_updated(event: orders_pb2.OrderUpdated) -> Columns:
    # Kept for the record (detail: the status it reached, e.g. COMPLETE); the reports count a
    # payment by its charge.created, which payments publishes first.
    return {
        "user_id": _or_none(event.user_id),
        "order_id": event.id,
        "detail": order_status_pb2.OrderStatus.Name(event.status).removeprefix("ORDER_STATUS_"),
        "version": event.version,
    }


def _order_expired(event: orders_pb2.OrderExpired) -> Columns:
    return {"order_id": event.order_id}


def _charge(event: payments_pb2.ChargeCreated | payments_pb2.ChargePending) -> Columns:
    # What the tickets sold for: the order's prices, not the buyer's fees on top (a charge's
    # breakdown, since fees; before, the amount charged was the prices).
    has_charges = isinstance(event, payments_pb2.ChargeCreated) and event.HasField("charges")
    sold_for = event.charges.subtotal if has_charges else event.amount
    return {
        "order_id": event.order_id,
        "price": from_cents(sold_for),  # every v1 currency has 2 minor digits
        "currency": _currency(event.currency_code),
        "detail": _or_none(event.stripe_id),
    }


def _charge_failed(event: payments_pb2.ChargeFailed) -> Columns:
    return {"order_id": event.order_id, "detail": _or_none(event.reason)}


def _payout_paid(event: payments_pb2.PayoutPaid) -> Columns:
    # The seller paid (user_id), what and the transfer (detail).
    return {
        "user_id": _or_none(event.seller_id),
        "order_id": event.order_id,
        "price": from_cents(event.amount),  # every v1 currency has 2 minor digits
        "currency": _currency(event.currency_code),
        "detail": _or_none(event.transfer_id),
    }


def _refund_issued(event: payments_pb2.RefundIssued) -> Columns:
    # The buyer refunded (user_id), what was given back and the Stripe refund (detail).
    return {
        "user_id": _or_none(event.buyer_id),
        "order_id": event.order_id,
        "price": from_cents(event.amount),  # every v1 currency has 2 minor digits
        "currency": _currency(event.currency_code),
        "detail": _or_none(event.stripe_refund_id),
    }


def _dispute(event: payments_pb2.DisputeOpened | payments_pb2.DisputeClosed) -> Columns:
    # The order disputed, the amount and the dispute's status at Stripe (detail).
    return {
        "order_id": event.order_id,
        "price": from_cents(event.amount),  # every v1 currency has 2 minor digits
        "currency": _currency(event.currency_code),
        "detail": _or_none(event.status),
    }


def _delivery_completed(event: delivery_pb2.DeliveryCompleted) -> Columns:
    # The seller who delivered (user_id), the order, and how (detail).
    return {
        "user_id": _or_none(event.seller_id),
        "order_id": event.order_id,
        "catalogue_event_id": _or_none(event.event_id),
        "detail": tickets_v1_pb2.DeliveryMethod.Name(event.method),
    }


def _delivery_missed(event: delivery_pb2.DeliveryMissed) -> Columns:
    # The seller who missed the deadline (user_id) and the order.
    return {
        "user_id": _or_none(event.seller_id),
        "order_id": event.order_id,
        "catalogue_event_id": _or_none(event.event_id),
    }


def _delivery_reminder(event: delivery_pb2.DeliveryDeadlineApproaching) -> Columns:
    return {"user_id": _or_none(event.seller_id), "order_id": event.order_id}


def _pass_issued(event: delivery_pb2.PassIssued) -> Columns:
    # The holder (user_id), the order and the pass with its serial (detail).
    return {
        "user_id": _or_none(event.holder_id),
        "order_id": _or_none(event.order_id),
        "catalogue_event_id": _or_none(event.event_id),
        "detail": f"{event.pass_id}#{event.serial}",
    }


def _pass_transfer_offered(event: delivery_pb2.PassTransferOffered) -> Columns:
    # The recipient's address is personal data the reports do not need: not kept.
    return {
        "user_id": _or_none(event.holder_id),
        "catalogue_event_id": _or_none(event.event_id),
        "detail": event.pass_id,
    }


def _pass_reissued(event: delivery_pb2.PassReissued) -> Columns:
    # The new holder (user_id), why and the serial (detail).
    return {
        "user_id": _or_none(event.holder_id),
        "catalogue_event_id": _or_none(event.event_id),
        "detail": f"{event.reason} {event.pass_id}#{event.serial}",
    }


def _user_created(event: users_pb2.UserCreated) -> Columns:
    # The email is personal data the reports do not need: not kept.
    return {"user_id": event.id}


def _user_updated(event: users_pb2.UserUpdated) -> Columns:
    return {"user_id": event.id, "version": event.version}


def _ticket_viewed(event: behaviour_pb2.TicketViewed) -> Columns:
    return {
        "user_id": _or_none(event.user_id),
        "anonymous_id": _or_none(event.anonymous_id),
        "ticket_id": _or_none(event.ticket_id),
    }


def _event_viewed(event: behaviour_pb2.EventViewed) -> Columns:
    return {
        "user_id": _or_none(event.user_id),
        "anonymous_id": _or_none(event.anonymous_id),
        "catalogue_event_id": _or_none(event.event_id),
    }


def _tickets_browsed(event: behaviour_pb2.TicketsBrowsed) -> Columns:
    query = {
        "first": event.first,
        "after": event.after,
        "includeReserved": event.include_reserved,
        "ticketIds": list(event.ticket_ids),
    }
    return {
        "user_id": _or_none(event.user_id),
        "anonymous_id": _or_none(event.anonymous_id),
        "detail": json.dumps(query, sort_keys=True, separators=(",", ":")),
    }


def _order_started(event: behaviour_pb2.OrderStarted) -> Columns:
    return {
        "user_id": _or_none(event.user_id),
        "anonymous_id": _or_none(event.anonymous_id),
        "ticket_id": _or_none(event.ticket_id),
    }


def _catalogue_event(
    event: catalogue_pb2.EventChanged | catalogue_pb2.EventStatusChanged,
) -> Columns:
    """A catalogue event's id, version, status and start in `detail`; event.changed adds what
    the event recommender compares events by (its performers' ids, category and city)."""
    detail: dict[str, Any] = {"eventId": event.id, "status": event.status, "version": event.version}
    if event.HasField("starts_at"):
        detail["startsAt"] = from_timestamp(event.starts_at).isoformat()
    if isinstance(event, catalogue_pb2.EventChanged):
        detail["performers"] = [p.id for p in event.performers]
        detail["category"] = event.category
        detail["city"] = event.venue.city
    return {
        "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")),
        "catalogue_event_id": event.id,
    }


COLUMNS_OF: Mapping[type[Message], Callable[[Any], Columns]] = {
    tickets_pb2.TicketCreated: _ticket_created,
    tickets_pb2.TicketUpdated: _ticket_updated,
    orders_pb2.OrderCreated: _order_created,
    orders_pb2.OrderCancelled: _order_cancelled,
    orders_pb2.OrderUpdated: _order_updated,
    orders_pb2.OrderExpired: _order_expired,
    payments_pb2.ChargeCreated: _charge,
    payments_pb2.ChargeFailed: _charge_failed,
    payments_pb2.ChargePending: _charge,
    payments_pb2.PayoutPaid: _payout_paid,
    payments_pb2.RefundIssued: _refund_issued,
    payments_pb2.DisputeOpened: _dispute,
    payments_pb2.DisputeClosed: _dispute,
    delivery_pb2.DeliveryCompleted: _delivery_completed,
    delivery_pb2.DeliveryMissed: _delivery_missed,
    delivery_pb2.DeliveryDeadlineApproaching: _delivery_reminder,
    delivery_pb2.PassIssued: _pass_issued,
    delivery_pb2.PassTransferOffered: _pass_transfer_offered,
    delivery_pb2.PassReissued: _pass_reissued,
    users_pb2.UserCreated: _user_created,
    users_pb2.UserUpdated: _user_updated,
    behaviour_pb2.TicketViewed: _ticket_viewed,
    behaviour_pb2.EventViewed: _event_viewed,
    behaviour_pb2.TicketsBrowsed: _tickets_browsed,
    behaviour_pb2.OrderStarted: _order_started,
    catalogue_pb2.EventChanged: _catalogue_event,
    catalogue_pb2.EventStatusChanged: _catalogue_event,
}


def occurred_at(event: Message, delivery: Delivery, clock: Clock) -> datetime:
    """The event's own time when it carries one (behaviour events: the request's), else when
    its publisher recorded it, else now."""
    if "occurred_at" in event.DESCRIPTOR.fields_by_name and event.HasField("occurred_at"):
        return from_timestamp(event.occurred_at)  # type: ignore[attr-defined]
    return delivery.occurred_at or clock.now()


def row_of(event: Message, delivery: Delivery, clock: Clock) -> EventRow:
    if not delivery.event_id:
        raise PoisonMessage("an event without an id")
    columns = COLUMNS_OF.get(type(event), lambda _event: {})(event)
    return EventRow(
        event_id=delivery.event_id,
        type=events.routing_key(event),
        occurred_at=occurred_at(event, delivery, clock),
        **columns,
    )


def event_handlers(handlers: InsightsHandlers, clock: Clock) -> Mapping[type[Message], Handler]:
    """A handler for every event in the catalogue: each keeps its row, once."""

    async def record(event: Message, delivery: Delivery) -> None:
        await handlers.record_event(row_of(event, delivery, clock))

    return {cls: record for cls in events.all_events()}
