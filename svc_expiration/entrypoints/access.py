"""Who may call each RPC of ExpirationService (common/service_identity.py; docs/security.md)."""

from common.service_identity import CLI, Access, access

ACCESS: dict[str, Access] = {
    # An operator's view of the schedule (grpcurl, with `ticketing service-token --as cli`).
    "GetExpiration": access(CLI),
}
