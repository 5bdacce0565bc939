"""Who may call each RPC of DeliveryService (common/service_identity.py; docs/security.md)."""

from common.service_identity import GATEWAY, Access, access

ACCESS: dict[str, Access] = {
    # A seller's and a buyer's own deliveries (an admin's: anyone's), with their token; one
    # they may not see is NOT_FOUND.
    "GetDelivery": access(GATEWAY, user=True),
    "BatchGetDeliveries": access(GATEWAY, user=True),
    "ListMyDeliveries": access(GATEWAY, user=True),
    "GetDeliveryFile": access(GATEWAY, user=True),
    # The order's seller delivers, with their token.
    "DeliverFiles": access(GATEWAY, user=True),
    "DeliverBarcodes": access(GATEWAY, user=True),
    "ConfirmMobileTransfer": access(GATEWAY, user=True),
    # A seller's record is public: no user needed.
    "GetSellerRecord": access(GATEWAY),
    # Passes: the holder's (a code only for them), an order's parties', an admin's; transfers
    # by the holder and the recipient, whose address is their token's `email`.
    "ListMyPasses": access(GATEWAY, user=True),
    "ListOrderPasses": access(GATEWAY, user=True),
    "GetPass": access(GATEWAY, user=True),
    "OfferPassTransfer": access(GATEWAY, user=True),
    "WithdrawPassTransfer": access(GATEWAY, user=True),
    "ListIncomingTransfers": access(GATEWAY, user=True),
    "AcceptPassTransfer": access(GATEWAY, user=True),
    # The public keys codes are verified with: public.
    "GetTicketKeys": access(GATEWAY),
    # Entry: admins grant, revoke and list an event's scanners; a scanner of the event scans,
    # downloads its offline kit and syncs; admins and its scanners see its double admissions.
    # Each checks the user's role or grant itself (PERMISSION_DENIED), with their token.
    "GrantScanner": access(GATEWAY, user=True),
    "RevokeScanner": access(GATEWAY, user=True),
    "ListScanners": access(GATEWAY, user=True),
    "ListMyScannerEvents": access(GATEWAY, user=True),
    "Scan": access(GATEWAY, user=True),
    "GetOfflineKit": access(GATEWAY, user=True),
    "SyncAdmissions": access(GATEWAY, user=True),
    "ListDoubleAdmissions": access(GATEWAY, user=True),
}
