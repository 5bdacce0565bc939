"""Who may call each RPC of InsightsService (common/service_identity.py; docs/security.md)."""

from common.service_identity import CLI, GATEWAY, Access, access

ACCESS: dict[str, Access] = {
    # The reports: a seller's own (or an operator's), with the user's token.
    "GetSellerReport": access(GATEWAY, user=True),
    "GetMarketReport": access(GATEWAY, user=True),
    "GetEventReport": access(GATEWAY, user=True),
    # Rankings for the gateway; a signed-in visitor's only with their token (the handler
    # refuses a user_id that is not the token's), an anonymous visitor's without.
    "RecommendTickets": access(GATEWAY),
    "SimilarTickets": access(GATEWAY),
    "RecommendEvents": access(GATEWAY),
    "SimilarEvents": access(GATEWAY),
    # An operator's view of what was recorded (grpcurl, `ticketing service-token --as cli`).
    "GetEventCounts": access(CLI),
}
