"""Where a seller stands with the payment processor: whether their proceeds can be paid out to
them yet, and what is still needed (payments' SellerAccount, issue 21)."""

from __future__ import annotations

from enum import Enum

import strawberry

from gateway.types.common import list_size
from ticketing.payments.v1 import payments_pb2

# Stripe asks an Express account for a dozen or so details; the list is cut here, so its size is
# the schema's (PAGE-7).
MAX_REQUIREMENTS = 50


@strawberry.enum(description="Where a seller stands for payouts. New values may be added.")
class SellerAccountStatus(Enum):
    NOT_ONBOARDED = strawberry.enum_value(
        "NOT_ONBOARDED",
        description="The seller has not started: startSellerOnboarding sets up their payouts. "
        "Listing tickets works already; what they sell is paid out once they are PAYABLE.",
    )
    PENDING = strawberry.enum_value(
        "PENDING",
        description="Started: the processor still needs details (requirementsDue) or is "
        "checking them.",
    )
    PAYABLE = strawberry.enum_value(
        "PAYABLE", description="The processor pays out to the seller: nothing left to do."
    )
    RESTRICTED = strawberry.enum_value(
        "RESTRICTED",
        description="The processor disabled payouts for a reason more details do not fix "
        "(disabledReason): the seller contacts support.",
    )


_STATUS = {
    payments_pb2.SELLER_ACCOUNT_STATUS_NOT_ONBOARDED: SellerAccountStatus.NOT_ONBOARDED,
    payments_pb2.SELLER_ACCOUNT_STATUS_PENDING: SellerAccountStatus.PENDING,
    payments_pb2.SELLER_ACCOUNT_STATUS_PAYABLE: SellerAccountStatus.PAYABLE,
    payments_pb2.SELLER_ACCOUNT_STATUS_RESTRICTED: SellerAccountStatus.RESTRICTED,
}


@strawberry.type(
    description="The caller's payout set-up as a seller: a value of their own User, not an "
    "object of its own (no id)."
)
class SellerAccount:
    status: SellerAccountStatus = strawberry.field(description="Where the seller stands.")
    can_receive_payouts: bool = strawberry.field(
        description="Whether the processor pays out to the seller now (true exactly when PAYABLE)."
    )
    requirements_due: list[str] = strawberry.field(
        description="What the processor still needs from the seller before paying them, in its "
        'own terms (e.g. "individual.verification.document", "external_account"); empty when '
        f"nothing. At most {MAX_REQUIREMENTS}.",
        directives=[list_size(assumed_size=MAX_REQUIREMENTS)],
    )
    disabled_reason: str | None = strawberry.field(
        description="Why the processor does not pay out yet, in its own terms (e.g. "
        '"requirements.past_due", "rejected.fraud"); null when it gives no reason.'
    )

    @classmethod
    def from_proto(cls, account: payments_pb2.SellerAccount) -> SellerAccount:
        return cls(
            status=_STATUS[account.status],
            can_receive_payouts=account.payouts_enabled,
            requirements_due=list(account.requirements_due)[:MAX_REQUIREMENTS],
            disabled_reason=account.disabled_reason or None,
        )


@strawberry.type(description="A seller's delivery record, public: a buyer judges a seller by it.")
class DeliveryRecord:
    delivered: int = strawberry.field(description="Orders the seller delivered by the deadline.")
    missed: int = strawberry.field(
        description="Orders whose deadline passed without a delivery (refunded to the buyer)."
    )
