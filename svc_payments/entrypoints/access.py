"""Who may call each RPC of PaymentsService (common/service_identity.py; docs/security.md)."""

from common.service_identity import GATEWAY, Access, access

ACCESS: dict[str, Access] = {
    # A buyer's own payments, with their token.
    "CreatePayment": access(GATEWAY, user=True),
    "BatchGetPayments": access(GATEWAY, user=True),
    # Refunds: a buyer's own orders' or, for admins (the caller's role, checked by payments),
    # anyone's.
    "RequestRefund": access(GATEWAY, user=True),
    "DecideRefundRequest": access(GATEWAY, user=True),
    "RefundOrder": access(GATEWAY, user=True),
    "ListRefunds": access(GATEWAY, user=True),
    "ListRefundRuns": access(GATEWAY, user=True),
    # The gateway's Stripe webhook (its signature checked there): no user.
    "SettlePayment": access(GATEWAY),
}
