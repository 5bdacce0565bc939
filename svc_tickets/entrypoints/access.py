"""Who may call each RPC of TicketsService (common/service_identity.py; docs/security.md)."""

from common.service_identity import GATEWAY, Access, access

ACCESS: dict[str, Access] = {
    # A seller's own tickets, with their token.
    "CreateTicket": access(GATEWAY, user=True),
    "UpdateTicket": access(GATEWAY, user=True),
    "WithdrawTicket": access(GATEWAY, user=True),
    # Public reads (the listing anyone may browse), for the gateway.
    "GetTicket": access(GATEWAY),
    "ListTickets": access(GATEWAY),
    "BatchGetTickets": access(GATEWAY),
    # Seats for an order: only the orders service, as it places the order (the buyer is named
    # in the request, which only orders may make).
    "HoldSeats": access("orders"),
    # An event's listings (public), for the gateway; a seller's own, with their token.
    "ListTicketsOfEvent": access(GATEWAY),
    "ListMyTickets": access(GATEWAY, user=True),
}
