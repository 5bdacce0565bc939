"""The tickets service over gRPC, for a ticket whose TicketCreated has not reached us yet."""

from __future__ import annotations

from decimal import Decimal

from common.errors import NotFound
from common.grpc_client import ServiceChannel
from common.money import LEGACY_CURRENCY
from svc_orders.domain.model import TicketCopy
from ticketing.tickets.v1 import tickets_pb2, tickets_pb2_grpc


class GrpcTicketSource:
    def __init__(self, peer: ServiceChannel) -> None:
        self.peer = peer

    async def get_ticket(self, ticket_id: str) -> TicketCopy | None:
        stub = tickets_pb2_grpc.TicketsServiceStub(self.peer.channel)
        try:
            reply = await self.peer.call(stub.GetTicket, tickets_pb2.GetTicketRequest(id=ticket_id))
        except NotFound:
            return None
        ticket = reply.ticket
        return TicketCopy(
            ticket.id,
            ticket.version,
            ticket.title,
            Decimal(ticket.price),
            ticket.user_id,
            currency_code=ticket.currency_code or LEGACY_CURRENCY,
            withdrawn=ticket.withdrawn,
        )
