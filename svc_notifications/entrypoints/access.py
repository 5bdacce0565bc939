"""Who may call each RPC of NotificationsService (common/service_identity.py; docs/security.md)."""

from common.service_identity import CLI, Access, access

ACCESS: dict[str, Access] = {
    # An operator's look at what was sent to a user (grpcurl, with `ticketing service-token
    # --as cli`): kinds, times and statuses, never a body or an address.
    "ListNotifications": access(CLI),
}
