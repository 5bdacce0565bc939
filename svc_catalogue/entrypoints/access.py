"""Who may call each RPC of CatalogueService (common/service_identity.py; docs/security.md)."""

from common.service_identity import CLI, GATEWAY, Access, access

ACCESS: dict[str, Access] = {
    # An operator's changes, with their token (the handler refuses a user without the admin
    # role).
    "CreateEvent": access(GATEWAY, user=True),
    "UpdateEvent": access(GATEWAY, user=True),
    "ChangeEventStatus": access(GATEWAY, user=True),
    "SetEventFees": access(GATEWAY, user=True),
    # Public reads and search, for the gateway.
    "GetEvent": access(GATEWAY),
    "BatchGetEvents": access(GATEWAY),
    "SearchEvents": access(GATEWAY),
    # An operator's bulk import (`ticketing catalogue import`), signed with the `cli` identity's
    # private key, which only operators hold.
    "ImportEvents": access(CLI),
}
