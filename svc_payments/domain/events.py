"""What a payment records: plain domain events, no wire format. The unit of work maps each to
its integration event (proto/ticketing/events/v1/payments.proto, amounts in minor units) where
it writes the outbox (`svc_payments/adapters/outbox_mapping.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from svc_payments.domain.fees import FeeQuote


@dataclass(frozen=True)
class ChargeCreated:
    """The order is paid: `amount` is what was charged; `charges` the order's breakdown
    (subtotal, fees, commission, the seller's proceeds) fixed when it was placed."""

    id: str
    order_id: str
    stripe_id: str
    amount: Decimal
    currency_code: str
    charges: FeeQuote | None = None


@dataclass(frozen=True)
class ChargePending:
    """Stripe has not decided yet (processing, or the customer must act)."""

    id: str
    order_id: str
    stripe_id: str
    amount: Decimal
    currency_code: str


@dataclass(frozen=True)
class ChargeFailed:
    """The charge was declined; `reason` is what the buyer is told."""

    order_id: str
    reason: str


@dataclass(frozen=True)
class PayoutPaid:
    """The seller's proceeds of an order were transferred to their connected account."""

    id: str
    order_id: str
    seller_id: str
    transfer_id: str
    amount_minor: int
    currency_code: str


@dataclass(frozen=True)
class RefundIssued:
    """Money was given back to the buyer of an order (in full or in part): who bore it says
    `seller_minor` (out of the seller's proceeds) and `platform_minor` (out of the fees)."""

    id: str
    order_id: str
    buyer_id: str
    stripe_refund_id: str
    amount_minor: int
    currency_code: str
    reason: str
    origin: str
    seller_minor: int
    platform_minor: int


@dataclass(frozen=True)
class DisputeOpened:
    """A cardholder disputed an order's payment (first seen)."""

    id: str
    order_id: str
    amount_minor: int
    currency_code: str
    reason: str
    status: str


@dataclass(frozen=True)
class DisputeClosed:
    """A dispute was decided (won, lost) or an inquiry closed."""

    id: str
    order_id: str
    status: str
    amount_minor: int
    currency_code: str


Event = (
    ChargeCreated
    | ChargePending
    | ChargeFailed
    | PayoutPaid
    | RefundIssued
    | DisputeOpened
    | DisputeClosed
)
