"""How seats reach a buyer and where a delivery stands: the values the aggregate and its events
share (their numbers are the proto enums', mapped at the edges)."""

from __future__ import annotations

from enum import IntEnum


class DeliveryMethod(IntEnum):
    E_TICKET = 1
    BARCODE = 2
    MOBILE_TRANSFER = 3


class DeliveryStatus(IntEnum):
    AWAITING_PAYMENT = 1
    DUE = 2
    DELIVERED = 3
    MISSED = 4
    CANCELLED = 5


def method_or_default(number: int) -> DeliveryMethod:
    """A listing's method from its number; 0 (unspecified, an older producer's) is E_TICKET."""
    try:
        return DeliveryMethod(number)
    except ValueError:
        return DeliveryMethod.E_TICKET
