"""Who may call each RPC of PaymentsService (common/service_identity.py; docs/security.md)."""

from common.service_identity import GATEWAY, Access, access

ACCESS: dict[str, Access] = {
    # A buyer's own payments, with their token.
    "CreatePayment": access(GATEWAY, user=True),
    "BatchGetPayments": access(GATEWAY, user=True),
    # The gateway's Stripe webhook (its signature checked there): no user.
    "SettlePayment": access(GATEWAY),
    "SyncDispute": access(GATEWAY),
    # Admins', with their token (the handler refuses a user without the admin role).
    "ListDisputes": access(GATEWAY, user=True),
    "GetDispute": access(GATEWAY, user=True),
    "SubmitDisputeEvidence": access(GATEWAY, user=True),
}
