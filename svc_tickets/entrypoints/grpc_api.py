"""gRPC TicketsService: requests to commands, tickets to messages."""

from __future__ import annotations

from common.grpc_server import current_user
from common.money import format_money
from common.protos import timestamp
from svc_tickets.domain.model import Ticket
from svc_tickets.domain.split import SplitRule
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
            ticket=ticket_to_proto(ticket), seats=list(hold.seats), price=format_money(hold.price)
        )
