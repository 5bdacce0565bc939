"""Who may call each RPC of PaymentsService (common/service_identity.py; docs/security.md)."""

from common.service_identity import CLI, GATEWAY, Access, access

ACCESS: dict[str, Access] = {
    # A buyer's own payments, with their token.
    "CreatePayment": access(GATEWAY, user=True),
    "BatchGetPayments": access(GATEWAY, user=True),
    "BatchGetOrderCharges": access(GATEWAY, user=True),
    # Prices anyone may see (the all-in price, a seller's proceeds): no user needed.
    "QuoteFees": access(GATEWAY),
    # A seller's own payouts (an operator's: anyone's), with their token.
    "ListPayouts": access(GATEWAY, user=True),
    "BatchGetPayouts": access(GATEWAY, user=True),
    # Refunds: a buyer's own orders' or, for admins (the caller's role, checked by payments),
    # anyone's.
    "RequestRefund": access(GATEWAY, user=True),
    "DecideRefundRequest": access(GATEWAY, user=True),
    "RefundOrder": access(GATEWAY, user=True),
    "ListRefunds": access(GATEWAY, user=True),
    "ListRefundRuns": access(GATEWAY, user=True),
    # The gateway's Stripe webhook (its signature checked there): no user.
    "SettlePayment": access(GATEWAY),
    # An operator's `ticketing reconcile`: reads the ledger and Stripe, writes a report.
    "ReconcileLedger": access(CLI),
    # A seller's own account at Stripe, with their token.
    "StartSellerOnboarding": access(GATEWAY, user=True),
    "GetSellerAccount": access(GATEWAY, user=True),
    # The gateway's Stripe webhook (account.updated): no user.
    "SyncSellerAccount": access(GATEWAY),
    # The gateway's Stripe webhook (charge.dispute.*): no user.
    "SyncDispute": access(GATEWAY),
    # Disputes: admins', with their token (the handler refuses a user without the admin role).
    "ListDisputes": access(GATEWAY, user=True),
    "GetDispute": access(GATEWAY, user=True),
    "SubmitDisputeEvidence": access(GATEWAY, user=True),
}
