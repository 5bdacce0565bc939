"""gRPC PaymentsService's dispute RPCs (SyncDispute, ListDisputes, SubmitDisputeEvidence):
requests to the dispute handlers, disputes to messages. The admins' RPCs check the caller's
admin role here (the gateway checks it too)."""

from __future__ import annotations

from common.errors import Forbidden
from common.grpc_server import current_user
from common.protos import timestamp
from svc_payments.service_layer.disputes import DisputeHandlers, DisputeView
from ticketing.payments.v1 import payments_pb2

ADMINS_ONLY = "Operators only: this needs the admin role"


def dispute_to_proto(view: DisputeView) -> payments_pb2.Dispute:
    d = view.dispute
    message = payments_pb2.Dispute(
        id=d.id,
        order_id=d.order_id,
        payment_id=d.payment_id,
        amount=d.amount,
        currency_code=d.currency_code,
        reason=d.reason,
        status=d.status.value,
        submission_count=d.submission_count,
        facts=payments_pb2.DisputeFacts(
            purchase_time=timestamp(d.purchased_at),
            buyer_id=d.buyer_id,
            seller_id=d.seller_id,
            event_id=d.event_id,
            amount_paid=d.amount_paid,
            payment_intent_id=d.payment_intent_id,
            charge_id=d.charge_id,
            # buyer_email, delivery_record, entry_scan: not recorded in payments (yet): empty.
        ),
        evidence=d.evidence,
        create_time=timestamp(d.created_at),
        payout_status=view.payout_status,
        payout_id=view.payout_id,
    )
    if d.evidence_due_by is not None:
        message.evidence_due_time.CopyFrom(timestamp(d.evidence_due_by))
    return message


def _require_admin() -> None:
    if not current_user().is_admin:
        raise Forbidden(ADMINS_ONLY)


class DisputesRpcs:
    """Mixed into PaymentsServicer (entrypoints/grpc_api.py)."""

    disputes: DisputeHandlers

    async def SyncDispute(self, request, context):
        # No user: it only makes our records match what Stripe reports (the webhook's call).
        view = await self.disputes.sync_dispute(request.dispute_id)
        return payments_pb2.SyncDisputeResponse(dispute=dispute_to_proto(view))

    async def ListDisputes(self, request, context):
        _require_admin()
        page = await self.disputes.list_disputes(
            request.status,
            request.page_size,
            request.page_token,
            request.before_page_token,
            request.backward,
        )
        return payments_pb2.ListDisputesResponse(
            disputes=[dispute_to_proto(v) for v in page.items],
            next_page_token=page.next_token,
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
        )

    async def GetDispute(self, request, context):
        _require_admin()
        view = await self.disputes.get(request.dispute_id)
        return payments_pb2.GetDisputeResponse(dispute=dispute_to_proto(view))

    async def SubmitDisputeEvidence(self, request, context):
        _require_admin()
        view = await self.disputes.submit_evidence(
            request.dispute_id, dict(request.evidence), request.submit
        )
        return payments_pb2.SubmitDisputeEvidenceResponse(dispute=dispute_to_proto(view))
