"""gRPC TicketsService: requests to commands, tickets to messages."""

from __future__ import annotations

from common.grpc_client import forwarded_token
from common.grpc_server import current_user
from common.money import format_money
from common.protos import timestamp
from svc_tickets.domain.model import Ticket
from svc_tickets.service_layer.handlers import (
    CreateTicket,
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
    )


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
                token=forwarded_token(context),
            )
        )
        return tickets_pb2.UpdateTicketResponse(ticket=ticket_to_proto(ticket))

    async def WithdrawTicket(self, request, context):
        ticket = await self.handlers.withdraw_ticket(
            WithdrawTicket(
                current_user().user_id,
                request.id,
                request.expected_version,
                token=forwarded_token(context),
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
