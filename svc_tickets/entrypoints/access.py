"""Who may call each RPC of TicketsService (common/service_identity.py; docs/security.md)."""

from common.service_identity import GATEWAY, Access, access

ACCESS: dict[str, Access] = {
    # A seller's own tickets, with their token.
    "CreateTicket": access(GATEWAY, user=True),
    "UpdateTicket": access(GATEWAY, user=True),
    "WithdrawTicket": access(GATEWAY, user=True),
    # Public reads (the listing anyone may browse), for the gateway; GetTicket also for
    # orders, which reads a ticket it has no copy of yet when an order is placed.
    "GetTicket": access(GATEWAY, "orders"),
    "ListTickets": access(GATEWAY),
    "BatchGetTickets": access(GATEWAY),
}
