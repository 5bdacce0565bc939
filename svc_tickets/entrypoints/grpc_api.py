"""gRPC TicketsService: requests to commands, tickets to messages."""

from __future__ import annotations

import base64
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from common.errors import InvalidInput
from common.grpc_server import current_user
from common.money import format_money, to_cents
from common.pagination import Page
from common.pagination import page_size as page_size_of
from common.protos import from_timestamp, timestamp
from svc_tickets.domain.listing import DeliveryMethod, ListingDetails
from svc_tickets.domain.model import Ticket
from svc_tickets.domain.split import SplitRule, allowed_quantities
from svc_tickets.service_layer.handlers import (
    CreateTicket,
    HoldSeats,
    TicketHandlers,
    UpdateTicket,
    WithdrawTicket,
)
from ticketing.tickets.v1 import tickets_pb2, tickets_pb2_grpc


def ticket_to_proto(ticket: Ticket) -> tickets_pb2.Ticket:
    return tickets_pb2.Ticket(
        id=ticket.id,
        title=ticket.title,
        price=format_money(ticket.price),
        user_id=ticket.user_id,
        version=ticket.version,
        order_id=ticket.order_id or "",
        create_time=timestamp(ticket.created_at),
        currency_code=ticket.currency_code,
        withdrawn=ticket.withdrawn,
        quantity=ticket.quantity,
        available=ticket.available,
        split_rule=tickets_pb2.SplitRule.Value(f"SPLIT_RULE_{ticket.split_rule.value}"),
        event_id=ticket.event_id,
        state=tickets_pb2.TicketState.Value(f"TICKET_STATE_{ticket.state.value}"),
        section=ticket.details.section,
        row=ticket.details.row,
        seat_labels=list(ticket.details.seat_labels),
        face_value=""
        if ticket.details.face_value is None
        else format_money(ticket.details.face_value),
        delivery_method=tickets_pb2.DeliveryMethod.Value(
            f"DELIVERY_METHOD_{ticket.details.delivery_method.value}"
        ),
        notes=ticket.details.notes,
        allowed_quantities=allowed_quantities(ticket.split_rule, ticket.available),
        deliver_by=_stamp(ticket.details.deliver_by),
    )


def _stamp(moment: datetime | None) -> Timestamp | None:
    return None if moment is None else timestamp(moment)


def _given_time(request, name: str) -> datetime | None:
    return from_timestamp(getattr(request, name)) if request.HasField(name) else None


def price_cursor(ticket: Ticket) -> str:
    """Where a page of an event's listings (cheapest first) ends: opaque to clients."""
    raw = f"{to_cents(ticket.price)}:{ticket.id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def price_cursor_of(token: str) -> tuple[int, str] | None:
    if not token:
        return None
    try:
        price, ticket_id = base64.urlsafe_b64decode(token.encode()).decode().split(":", 1)
        return int(price), ticket_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("Not a page token of this list", field="page_token") from None


DELIVERY_METHODS = {
    method: tickets_pb2.DeliveryMethod.Value(f"DELIVERY_METHOD_{method.value}")
    for method in DeliveryMethod
}


def delivery_method_of(value: int) -> DeliveryMethod:
    if value == tickets_pb2.DELIVERY_METHOD_UNSPECIFIED:
        return DeliveryMethod.E_TICKET
    return DeliveryMethod(tickets_pb2.DeliveryMethod.Name(value).removeprefix("DELIVERY_METHOD_"))


def details_of(request: tickets_pb2.CreateTicketRequest, quantity: int) -> ListingDetails | None:
    """The listing's details, checked; None for a v1 ticket's request (none of them given)."""
    given = (
        request.section,
        request.row,
        list(request.seat_labels),
        request.face_value,
        request.delivery_method,
        request.notes,
        request.HasField("deliver_by"),
    )
    if not any(given) and not request.event_id:
        return None
    return ListingDetails.of(
        quantity,
        request.section,
        request.row,
        list(request.seat_labels),
        request.face_value or None,
        delivery_method_of(request.delivery_method),
        request.notes,
        _given_time(request, "deliver_by"),
    )


def split_rule_of(value: int) -> SplitRule:
    if value == tickets_pb2.SPLIT_RULE_UNSPECIFIED:
        return SplitRule.ANY
    return SplitRule(tickets_pb2.SplitRule.Name(value).removeprefix("SPLIT_RULE_"))


def _given(request, name: str) -> str | None:
    return getattr(request, name) if request.HasField(name) else None


class TicketsServicer(tickets_pb2_grpc.TicketsServiceServicer):
    def __init__(self, handlers: TicketHandlers) -> None:
        self.handlers = handlers

    async def CreateTicket(self, request, context):
        ticket = await self.handlers.create_ticket(
            CreateTicket(
                current_user().user_id,
                request.title,
                request.price,
                request.currency_code,
                request.idempotency_key,
                quantity=request.quantity or 1,
                split_rule=split_rule_of(request.split_rule),
                event_id=request.event_id,
                details=details_of(request, request.quantity or 1),
            )
        )
        return tickets_pb2.CreateTicketResponse(ticket=ticket_to_proto(ticket))

    async def UpdateTicket(self, request, context):
        ticket = await self.handlers.update_ticket(
            UpdateTicket(
                current_user().user_id,
                request.id,
                _given(request, "title"),
                _given(request, "price"),
                request.expected_version,
                _given(request, "currency_code"),
                _given(request, "quantity"),
                _given_time(request, "deliver_by"),
            )
        )
        return tickets_pb2.UpdateTicketResponse(ticket=ticket_to_proto(ticket))

    async def WithdrawTicket(self, request, context):
        ticket = await self.handlers.withdraw_ticket(
            WithdrawTicket(
                current_user().user_id,
                request.id,
                request.expected_version,
            )
        )
        return tickets_pb2.WithdrawTicketResponse(ticket=ticket_to_proto(ticket))

    async def GetTicket(self, request, context):
        ticket = await self.handlers.get_ticket(request.id)
        return tickets_pb2.GetTicketResponse(ticket=ticket_to_proto(ticket))

    async def ListTickets(self, request, context):
        page = await self.handlers.list_tickets(
            request.page_size,
            request.page_token,
            request.include_reserved,
            request.before_page_token,
            request.backward,
        )
        return tickets_pb2.ListTicketsResponse(
            tickets=[ticket_to_proto(t) for t in page.items],
            next_page_token=page.next_token,
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
        )

    async def BatchGetTickets(self, request, context):
        tickets = await self.handlers.batch_get(list(request.ids))
        return tickets_pb2.BatchGetTicketsResponse(tickets=[ticket_to_proto(t) for t in tickets])

    async def HoldSeats(self, request, context):
        ticket, hold = await self.handlers.hold_seats(
            HoldSeats(request.ticket_id, request.quantity, request.order_id, request.buyer_user_id)
        )
        return tickets_pb2.HoldSeatsResponse(
            ticket=ticket_to_proto(ticket),
            seats=list(hold.seats),
            price=format_money(hold.price),
            seat_labels=list(ticket.details.seats_of(hold.seats)),
            delivery_method=DELIVERY_METHODS[ticket.details.delivery_method],
            deliver_by=_stamp(hold.deliver_by),
        )

    async def ListTicketsOfEvent(self, request, context):
        size = page_size_of(request.page_size)
        found = await self.handlers.listings_of_event(
            request.event_id, size, price_cursor_of(request.page_token)
        )
        page, more = found[:size], len(found) > size
        return tickets_pb2.ListTicketsOfEventResponse(
            tickets=[ticket_to_proto(t) for t in page],
            next_page_token=price_cursor(page[-1]) if more else "",
            page_tokens=[price_cursor(t) for t in page],
        )

    async def ListMyTickets(self, request, context):
        page: Page[Ticket] = await self.handlers.listings_of_seller(
            current_user().user_id, request.page_size, request.page_token
        )
        return tickets_pb2.ListMyTicketsResponse(
            tickets=[ticket_to_proto(t) for t in page.items],
            next_page_token=page.next_token,
            has_next_page=page.has_next,
        )
