"""Refunds and cancelled events' refund runs as GraphQL types, from the payments service (the
authority on refunds) messages."""

from __future__ import annotations

from enum import Enum

import strawberry

from common.money import from_cents
from common.protos import from_timestamp
from gateway import global_ids
from gateway.types.common import Money, Node
from gateway.types.scalars import DateTime
from ticketing.payments.v1 import payments_pb2


def money_of_minor(minor: int, currency_code: str) -> Money:
    """Payments' minor units as Money (every currency an order may be in has two minor digits:
    common/money.py)."""
    return Money.of(str(from_cents(minor)), currency_code)


@strawberry.enum(description="Where a refund stands; SUCCEEDED, DECLINED and FAILED are final.")
class RefundState(Enum):
    REQUESTED = strawberry.enum_value(
        "REQUESTED", description="The buyer asked; an admin approves or declines it."
    )
    APPROVED = strawberry.enum_value(
        "APPROVED", description="To be made (or being made) at the payment processor."
    )
    SUCCEEDED = strawberry.enum_value("SUCCEEDED", description="Given back to the buyer's card.")
    DECLINED = strawberry.enum_value(
        "DECLINED", description="An admin declined the request: see outcomeReason."
    )
    FAILED = strawberry.enum_value(
        "FAILED", description="The processor refused it: see outcomeReason."
    )


@strawberry.enum(description="Who asked for a refund.")
class RefundOrigin(Enum):
    BUYER = strawberry.enum_value("BUYER", description="The buyer's request.")
    ADMIN = strawberry.enum_value("ADMIN", description="An admin's refund.")
    EVENT_CANCELLED = strawberry.enum_value(
        "EVENT_CANCELLED", description="Its event was cancelled: every paid order is refunded."
    )
    DELIVERY_MISSED = strawberry.enum_value(
        "DELIVERY_MISSED",
        description="The seller did not deliver by the deadline: the order is refunded in full.",
    )


@strawberry.type(description="Money given back (or asked back) for one of an order's payments.")
class Refund(Node):
    order_ref: strawberry.ID = strawberry.field(
        description="The order's global id (an admin reads refunds of other people's orders, "
        "which order(id:) does not show them)."
    )
    state: RefundState = strawberry.field(description="Where it stands.")
    origin: RefundOrigin = strawberry.field(description="Who asked.")
    amount: Money = strawberry.field(
        description="What is (or was asked to be) given back, in the order's currency."
    )
    reason: str = strawberry.field(description="Why, as the buyer or the admin gave it.")
    outcome_reason: str | None = strawberry.field(
        description="DECLINED: the admin's reason; FAILED: the processor's; null otherwise."
    )
    created_at: DateTime = strawberry.field(description="When it was asked for.")
    completed_at: DateTime | None = strawberry.field(
        description="When it succeeded, failed or was declined; null while open."
    )

    @classmethod
    def from_proto(cls, r: payments_pb2.Refund) -> Refund:
        return cls(
            id=strawberry.ID(global_ids.encode("Refund", r.id)),
            order_ref=strawberry.ID(global_ids.encode("Order", r.order_id)),
            state=RefundState[r.state],
            origin=RefundOrigin[r.origin],
            amount=money_of_minor(r.amount, r.currency_code),
            reason=r.reason,
            outcome_reason=r.outcome_reason or None,
            created_at=from_timestamp(r.create_time),  # type: ignore[arg-type]
            completed_at=from_timestamp(r.complete_time)  # type: ignore[arg-type]
            if r.HasField("complete_time")
            else None,
        )


@strawberry.enum(description="Where a refund run stands.")
class RefundRunState(Enum):
    RUNNING = strawberry.enum_value("RUNNING", description="Refunding the event's paid orders.")
    DONE = strawberry.enum_value("DONE", description="Every paid order was walked.")


@strawberry.type(
    description="The refunds of a cancelled event's paid orders, made as a job: its progress."
)
class RefundRun:
    event_ref: strawberry.ID = strawberry.field(description="The cancelled event's global id.")
    state: RefundRunState = strawberry.field(description="Where it stands.")
    total: int = strawberry.field(description="The event's paid orders when the run started.")
    done: int = strawberry.field(description="Orders refunded by the run so far.")
    skipped: int = strawberry.field(description="Orders found refunded in full already.")
    failed: int = strawberry.field(
        description="Orders the processor refused to refund (each refund says why)."
    )
    created_at: DateTime = strawberry.field(description="When the event was cancelled.")
    finished_at: DateTime | None = strawberry.field(
        description="When it was DONE; null while RUNNING."
    )

    @classmethod
    def from_proto(cls, r: payments_pb2.RefundRun) -> RefundRun:
        return cls(
            event_ref=strawberry.ID(global_ids.encode("Event", r.event_id)),
            state=RefundRunState[r.state],
            total=r.total,
            done=r.done,
            skipped=r.skipped,
            failed=r.failed,
            created_at=from_timestamp(r.create_time),  # type: ignore[arg-type]
            finished_at=from_timestamp(r.finish_time)  # type: ignore[arg-type]
            if r.HasField("finish_time")
            else None,
        )
