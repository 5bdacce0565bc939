"""gRPC PaymentsService: requests to commands, payments to messages."""

from __future__ import annotations

from common.grpc_client import forwarded_token
from common.grpc_server import current_user
from common.money import format_money
from common.protos import timestamp
from svc_payments.domain.model import Payment
from svc_payments.entrypoints.disputes_api import DisputesRpcs
from svc_payments.service_layer.disputes import DisputeHandlers
from svc_payments.service_layer.handlers import CreatePayment, PaymentHandlers
from ticketing.payments.v1 import payments_pb2, payments_pb2_grpc


def payment_to_proto(payment: Payment, dispute_status: str = "") -> payments_pb2.Payment:
    return payments_pb2.Payment(
        id=payment.id,
        order_id=payment.order_id,
        stripe_id=payment.stripe_id,
        amount=format_money(payment.amount),
        status=payment.status.value,
        client_secret=payment.client_secret,
        user_id=payment.user_id,
        create_time=timestamp(payment.created_at),
        currency_code=payment.currency_code,
        dispute_status=dispute_status,
    )


class PaymentsServicer(DisputesRpcs, payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(self, handlers: PaymentHandlers, disputes: DisputeHandlers) -> None:
        self.handlers = handlers
        self.disputes = disputes

    async def CreatePayment(self, request, context):
        payment = await self.handlers.create_payment(
            CreatePayment(
                current_user().user_id,
                request.order_id,
                request.payment_method,
                request.idempotency_key,
                token=forwarded_token(context),
            )
        )
        return payments_pb2.CreatePaymentResponse(payment=payment_to_proto(payment))

    async def BatchGetPayments(self, request, context):
        payments = await self.handlers.batch_get_payments(
            current_user().user_id, list(request.order_ids), list(request.ids)
        )
        disputed = await self.disputes.dispute_statuses([p.order_id for p in payments])
        return payments_pb2.BatchGetPaymentsResponse(
            payments=[payment_to_proto(p, disputed.get(p.order_id, "")) for p in payments]
        )

    async def SettlePayment(self, request, context):
        # No user: it only makes our records match what Stripe itself reports, so a caller can
        # achieve nothing else; only the gateway (its webhook) may call it (entrypoints/access.py).
        payment = await self.handlers.settle_payment(request.stripe_id)
        return payments_pb2.SettlePaymentResponse(payment=payment_to_proto(payment))
