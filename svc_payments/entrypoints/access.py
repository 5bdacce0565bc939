"""Who may call each RPC of PaymentsService (common/service_identity.py; docs/security.md)."""

from common.service_identity import GATEWAY, Access, access

ACCESS: dict[str, Access] = {
    # A buyer's own payments, with their token.
    "CreatePayment": access(GATEWAY, user=True),
    "BatchGetPayments": access(GATEWAY, user=True),
    "BatchGetOrderCharges": access(GATEWAY, user=True),
    # Prices anyone may see (the all-in price, a seller's proceeds): no user needed.
    "QuoteFees": access(GATEWAY),
    # The gateway's Stripe webhook (its signature checked there): no user.
    "SettlePayment": access(GATEWAY),
}
