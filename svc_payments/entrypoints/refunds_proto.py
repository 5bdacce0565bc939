"""Refunds and refund runs as PaymentsService's messages."""

from __future__ import annotations

from common.protos import timestamp
from svc_payments.domain.refund_runs import RefundRun
from svc_payments.domain.refunds import Refund, RefundState
from ticketing.payments.v1 import payments_pb2


def refund_to_proto(refund: Refund) -> payments_pb2.Refund:
    message = payments_pb2.Refund(
        id=refund.id,
        order_id=refund.order_id,
        buyer_id=refund.buyer_id,
        amount=refund.amount_minor,
        currency_code=refund.currency_code,
        reason=refund.reason,
        state=refund.state.value,
        origin=refund.origin.value,
        stripe_refund_id=refund.stripe_refund_id,
        outcome_reason=refund.decline_reason
        if refund.state is RefundState.DECLINED
        else refund.failure,
        create_time=timestamp(refund.created_at),
        seller_amount=refund.seller_minor,
        platform_amount=refund.platform_minor,
    )
    completed = refund.completed_at or (
        refund.decided_at if refund.state is RefundState.DECLINED else None
    )
    if completed is not None:
        message.complete_time.CopyFrom(timestamp(completed))
    return message


def run_to_proto(run: RefundRun) -> payments_pb2.RefundRun:
    message = payments_pb2.RefundRun(
        event_id=run.event_id,
        state=run.state.value,
        total=run.total,
        done=run.done,
        skipped=run.skipped,
        failed=run.failed,
        create_time=timestamp(run.created_at),
    )
    if run.finished_at is not None:
        message.finish_time.CopyFrom(timestamp(run.finished_at))
    return message
