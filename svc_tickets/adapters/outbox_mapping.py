"""The tickets domain's events as the integration events consumers receive
(proto/ticketing/events/v1/tickets.proto): the one place they are mapped, when the unit of work
writes the outbox (`svc_tickets/adapters/unit_of_work.py`). Prices go as decimal strings."""

from __future__ import annotations

from google.protobuf.message import Message

from common.money import format_money
from svc_tickets.domain import events
from ticketing.events.v1 import tickets_pb2
from ticketing.tickets.v1 import tickets_pb2 as tickets_v1_pb2


def to_integration(event: events.Event) -> Message:
    match event:
        case events.TicketCreated():
            return tickets_pb2.TicketCreated(
                id=event.id,
                version=event.version,
                title=event.title,
                price=format_money(event.price),
                user_id=event.user_id,
                currency_code=event.currency_code,
                event_id=event.event_id,
                quantity=event.quantity,
                available=event.available,
            )
        case events.TicketUpdated():
            return tickets_pb2.TicketUpdated(
                id=event.id,
                version=event.version,
                title=event.title,
                price=format_money(event.price),
                user_id=event.user_id,
                order_id=event.order_id or "",
                currency_code=event.currency_code,
                withdrawn=event.withdrawn,
                event_id=event.event_id,
                quantity=event.quantity,
                available=event.available,
                state=tickets_v1_pb2.TicketState.Value(f"TICKET_STATE_{event.state}"),
            )
    raise TypeError(f"no integration event for {event!r}")
