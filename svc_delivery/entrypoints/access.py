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
}
