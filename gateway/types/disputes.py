"""Disputes (chargebacks) as the operators see them, and a payment's dispute status as its buyer
sees it (payments is their authority: docs/design/money.md §6)."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

import strawberry

from common.money import MINOR_DIGITS
from common.pagination import Cursor
from common.protos import from_timestamp
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.types.common import Money, Node, PageInfo, list_size
from gateway.types.events import Event
from gateway.types.payouts import Payout
from gateway.types.scalars import DateTime
from gateway.types.user import User
from ticketing.payments.v1 import payments_pb2


@strawberry.enum(
    description="Where a dispute stands, as the payment processor says. New values may be added "
    "(read as null)."
)
class DisputeStatus(Enum):
    WARNING_NEEDS_RESPONSE = strawberry.enum_value(
        "warning_needs_response",
        description="An inquiry before a chargeback: no money taken yet; evidence may prevent it.",
    )
    WARNING_UNDER_REVIEW = strawberry.enum_value(
        "warning_under_review", description="An inquiry answered, under review."
    )
    WARNING_CLOSED = strawberry.enum_value(
        "warning_closed", description="An inquiry closed without a chargeback (final)."
    )
    NEEDS_RESPONSE = strawberry.enum_value(
        "needs_response",
        description="A chargeback: the amount and the fee were taken; evidence is due by "
        "evidenceDueAt.",
    )
    UNDER_REVIEW = strawberry.enum_value(
        "under_review", description="Evidence submitted; the card network decides."
    )
    WON = strawberry.enum_value(
        "won", description="Decided for the platform: the amount came back (final)."
    )
    LOST = strawberry.enum_value(
        "lost", description="Decided for the cardholder: the amount is theirs (final)."
    )


def dispute_status(value: str) -> DisputeStatus | None:
    """A status payments reports; null for none (not disputed) or one this API does not know."""
    try:
        return DisputeStatus(value) if value else None
    except ValueError:
        return None


@strawberry.enum(
    description="The processor's text evidence fields (its names, upper case), as operators edit "
    "them."
)
class DisputeEvidenceName(Enum):
    ACCESS_ACTIVITY_LOG = "access_activity_log"
    BILLING_ADDRESS = "billing_address"
    CANCELLATION_POLICY_DISCLOSURE = "cancellation_policy_disclosure"
    CANCELLATION_REBUTTAL = "cancellation_rebuttal"
    CUSTOMER_COMMUNICATION = "customer_communication"
    CUSTOMER_EMAIL_ADDRESS = "customer_email_address"
    CUSTOMER_NAME = "customer_name"
    CUSTOMER_PURCHASE_IP = "customer_purchase_ip"
    DUPLICATE_CHARGE_EXPLANATION = "duplicate_charge_explanation"
    DUPLICATE_CHARGE_ID = "duplicate_charge_id"
    PRODUCT_DESCRIPTION = "product_description"
    REFUND_POLICY_DISCLOSURE = "refund_policy_disclosure"
    REFUND_REFUSAL_EXPLANATION = "refund_refusal_explanation"
    SERVICE_DATE = "service_date"
    SHIPPING_ADDRESS = "shipping_address"
    SHIPPING_CARRIER = "shipping_carrier"
    SHIPPING_DATE = "shipping_date"
    SHIPPING_TRACKING_NUMBER = "shipping_tracking_number"
    UNCATEGORIZED_TEXT = "uncategorized_text"


# Stripe's text evidence fields that operators edit (svc_payments/domain/disputes.py), in order.
EVIDENCE_NAMES = tuple(name.value for name in DisputeEvidenceName)


def money_of_minor(units: int, currency_code: str) -> Money:
    digits = MINOR_DIGITS.get(currency_code, 2)
    amount = Decimal(units).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))
    return Money.of(str(amount), currency_code)


@strawberry.type(description="One evidence field and its text.")
class DisputeEvidence:
    name: DisputeEvidenceName = strawberry.field(description="The processor's field.")
    value: str = strawberry.field(description="Its text, never empty.")


@strawberry.type(
    description="The disputed order's own history, as payments recorded it: what evidence is "
    "staged from. A null field is not recorded (yet); nothing is made up."
)
class DisputedPurchase:
    purchased_at: DateTime = strawberry.field(description="When the buyer paid.")
    amount_paid: Money = strawberry.field(description="What the buyer paid for the order.")
    payment_intent: str = strawberry.field(
        description="The processor's PaymentIntent id (pi_...), for the processor's dashboard."
    )
    charge: str | None = strawberry.field(
        description="The processor's charge id (ch_...); null when it did not name one."
    )
    buyer_email: str | None = strawberry.field(
        description="Always null today: payments does not hold the buyer's email."
    )
    delivery_record: str | None = strawberry.field(
        description="How the tickets were delivered; null: not yet recorded (issue 22)."
    )
    entry_scan: str | None = strawberry.field(
        description="The tickets' scan at the door; null: not yet recorded (issue 22)."
    )
    buyer_id: strawberry.Private[str]
    seller_id: strawberry.Private[str]
    event_id: strawberry.Private[str]

    @strawberry.field(description="Who bought (a public profile).")
    def buyer(self) -> User | None:
        return User.of(self.buyer_id)

    @strawberry.field(description="Who sold (a public profile); null for an order of no seller.")
    def seller(self) -> User | None:
        return User.of(self.seller_id) if self.seller_id else None

    @strawberry.field(
        description="The event the tickets are for; null when the order names none, or with an "
        "error when the catalogue cannot be reached.",
        directives=[Cost(weight=1)],
    )
    async def event(self, info: Info) -> Event | None:
        if not self.event_id:
            return None
        found = await info.context.events.load(self.event_id)
        return None if found is None else Event.from_proto(found)


@strawberry.type(
    description="A cardholder's dispute of an order's payment (a chargeback), for operators."
)
class Dispute(Node):
    status: DisputeStatus | None = strawberry.field(
        description="Where it stands; null for a status this API does not know yet."
    )
    reason: str = strawberry.field(
        description="The processor's reason, e.g. fraudulent, product_not_received."
    )
    amount: Money = strawberry.field(description="The amount disputed.")
    evidence_due_at: DateTime | None = strawberry.field(
        description="When evidence must be submitted by; null when the processor gives no time."
    )
    submission_count: int = strawberry.field(description="How often evidence was submitted.")
    created_at: DateTime = strawberry.field(description="When payments first heard of it.")
    purchase: DisputedPurchase = strawberry.field(
        description="The order's own history, staged as evidence."
    )
    evidence: list[DisputeEvidence] = strawberry.field(
        description="The evidence as it stands: staged from the purchase, then as an operator "
        f"last saved it; at most {len(EVIDENCE_NAMES)} (one per name), in name order.",
        directives=[list_size(assumed_size=len(EVIDENCE_NAMES))],
    )
    cursor: strawberry.Private[str]
    payout_id: strawberry.Private[str]

    @strawberry.field(
        description="The seller's payout for the disputed order, as the dispute left it (HELD "
        "while open, REVERSED when taken back, released once won); null when the order has none.",
        directives=[Cost(weight=1)],
    )
    async def payout(self, info: Info) -> Payout | None:
        if not self.payout_id:
            return None
        payout = await info.context.payouts.load(self.payout_id)  # one call for a page
        return Payout.from_proto(payout) if payout is not None else None

    @classmethod
    def from_proto(cls, d: payments_pb2.Dispute) -> Dispute:
        facts = d.facts
        created_at = from_timestamp(d.create_time)
        return cls(
            id=strawberry.ID(global_ids.encode("Dispute", d.id)),
            status=dispute_status(d.status),
            reason=d.reason,
            amount=money_of_minor(d.amount, d.currency_code),
            evidence_due_at=(
                from_timestamp(d.evidence_due_time) if d.HasField("evidence_due_time") else None
            ),  # type: ignore[arg-type]
            submission_count=d.submission_count,
            created_at=created_at,  # type: ignore[arg-type]
            purchase=DisputedPurchase(
                purchased_at=from_timestamp(facts.purchase_time),  # type: ignore[arg-type]
                amount_paid=money_of_minor(facts.amount_paid, d.currency_code),
                payment_intent=facts.payment_intent_id,
                charge=facts.charge_id or None,
                buyer_email=facts.buyer_email or None,
                delivery_record=facts.delivery_record or None,
                entry_scan=facts.entry_scan or None,
                buyer_id=facts.buyer_id,
                seller_id=facts.seller_id,
                event_id=facts.event_id,
            ),
            evidence=[
                DisputeEvidence(name=DisputeEvidenceName(name), value=d.evidence[name])
                for name in EVIDENCE_NAMES
                if d.evidence.get(name)
            ],
            cursor=Cursor(created_at, d.id).encode(),
            payout_id=d.payout_id,
        )


@strawberry.type(description="A dispute and its cursor.")
class DisputeEdge:
    cursor: str = strawberry.field(description="Where this dispute is in the connection.")
    node: Dispute | None = strawberry.field(description="The dispute; null if it failed alone.")


@strawberry.type(description="A page of disputes (a Relay connection), newest first.")
class DisputeConnection:
    edges: list[DisputeEdge | None] = strawberry.field(
        description="The page's disputes with their cursors, newest first."
    )
    nodes: list[Dispute | None] = strawberry.field(
        description="The page's disputes, as in edges, without cursors."
    )
    page_info: PageInfo = strawberry.field(description="Where this page stands.")

    @classmethod
    def of(
        cls, disputes: list[Dispute], *, has_next: bool, has_previous: bool
    ) -> DisputeConnection:
        return cls(
            edges=[DisputeEdge(cursor=d.cursor, node=d) for d in disputes],
            nodes=list(disputes),
            page_info=PageInfo.of(
                [d.cursor for d in disputes], has_next=has_next, has_previous=has_previous
            ),
        )
