"""Who may call each RPC of OrdersService (common/service_identity.py; docs/security.md)."""

from common.service_identity import CLI, GATEWAY, Access, access

ACCESS: dict[str, Access] = {
    # A buyer's own orders, with their token; payments reads the order it charges for with the
    # buyer's token, which the gateway forwarded to it.
    "CreateOrder": access(GATEWAY, user=True),
    "CancelOrder": access(GATEWAY, user=True),
    "GetOrder": access(GATEWAY, "payments", user=True),
    "ListOrders": access(GATEWAY, user=True),
    # Operators' tools only (`ticketing migrate`): anyone's orders, no user token.
    "BatchGetOrders": access(CLI),
    # Deprecated, no longer served (UNIMPLEMENTED to the callers they had during a rollout).
    "ApplyTicketEdit": access(GATEWAY, user=True),  # not called: answers UNIMPLEMENTED
    "BatchGetTicketStates": access(GATEWAY),
}
