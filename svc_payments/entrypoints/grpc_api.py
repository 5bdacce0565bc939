"""gRPC PaymentsService: requests to commands, payments to messages."""

from __future__ import annotations

from common.grpc_client import forwarded_token
from common.grpc_server import current_user
from common.money import format_money
from common.protos import timestamp
from svc_payments.domain.model import Payment
from svc_payments.entrypoints.refunds_proto import refund_to_proto, run_to_proto
from svc_payments.service_layer.handlers import CreatePayment, PaymentHandlers
from svc_payments.service_layer.refund_runs import RefundRuns
from svc_payments.service_layer.refunds import Caller, RefundHandlers, RefundOrder
from ticketing.payments.v1 import payments_pb2, payments_pb2_grpc


def payment_to_proto(payment: Payment) -> payments_pb2.Payment:
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
    )


class PaymentsServicer(payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(
        self, handlers: PaymentHandlers, refunds: RefundHandlers, refund_runs: RefundRuns
    ) -> None:
        self.handlers = handlers
        self.refunds = refunds
        self.refund_runs = refund_runs

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
        return payments_pb2.BatchGetPaymentsResponse(
            payments=[payment_to_proto(p) for p in payments]
        )

    async def SettlePayment(self, request, context):
        # No user: it only makes our records match what Stripe itself reports, so a caller can
        # achieve nothing else; only the gateway (its webhook) may call it (entrypoints/access.py).
        payment = await self.handlers.settle_payment(request.stripe_id)
        return payments_pb2.SettlePaymentResponse(payment=payment_to_proto(payment))

    # -- refunds (service_layer/refunds.py, refund_runs.py) -------------------------------------

    async def RequestRefund(self, request, context):
        refund = await self.refunds.request_refund(_caller(), request.order_id, request.reason)
        return payments_pb2.RequestRefundResponse(refund=refund_to_proto(refund))

    async def DecideRefundRequest(self, request, context):
        refund = await self.refunds.decide_refund_request(
            _caller(), request.refund_id, request.approve, request.reason
        )
        return payments_pb2.DecideRefundRequestResponse(refund=refund_to_proto(refund))

    async def RefundOrder(self, request, context):
        refund = await self.refunds.refund_order(
            _caller(),
            RefundOrder(
                request.order_id,
                request.amount or None,
                request.currency_code,
                request.reason,
                request.idempotency_key,
            ),
        )
        return payments_pb2.RefundOrderResponse(refund=refund_to_proto(refund))

    async def ListRefunds(self, request, context):
        refunds = await self.refunds.list_refunds(
            _caller(), request.state, list(request.order_ids), request.limit, list(request.ids)
        )
        return payments_pb2.ListRefundsResponse(refunds=[refund_to_proto(r) for r in refunds])

    async def ListRefundRuns(self, request, context):
        runs = await self.refund_runs.list_runs(_caller(), request.limit)
        return payments_pb2.ListRefundRunsResponse(runs=[run_to_proto(r) for r in runs])


def _caller() -> Caller:
    claims = current_user()
    return Caller(claims.user_id, claims.is_admin)
