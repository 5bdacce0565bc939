"""gRPC PaymentsService: requests to commands, payments to messages."""

from __future__ import annotations

from common.grpc_client import forwarded_token
from common.grpc_server import current_user
from common.money import format_money
from common.pagination import page_request
from common.protos import timestamp
from svc_payments.domain.currency import from_minor
from svc_payments.domain.fees import FeeQuote, QuoteLine
from svc_payments.domain.model import Payment
from svc_payments.domain.payouts import Payout
from svc_payments.domain.seller_accounts import SellerAccount, status_of
from svc_payments.entrypoints.disputes_api import DisputesRpcs
from svc_payments.entrypoints.reconciliation_api import report_to_proto
from svc_payments.entrypoints.refunds_proto import refund_to_proto, run_to_proto
from svc_payments.service_layer.disputes import DisputeHandlers
from svc_payments.service_layer.handlers import CreatePayment, PaymentHandlers
from svc_payments.service_layer.payout_reads import (
    PayoutReader,
    batch_get_payouts,
    list_payouts,
    status_filter,
)
from svc_payments.service_layer.reconciliation import ON_DEMAND, LedgerReconciliation
from svc_payments.service_layer.refund_runs import RefundRuns
from svc_payments.service_layer.refunds import Caller, RefundHandlers, RefundOrder
from svc_payments.service_layer.seller_onboarding import SellerOnboarding, StartSellerOnboarding
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


def seller_to_proto(user_id: str, seller: SellerAccount | None) -> payments_pb2.SellerAccount:
    name = f"SELLER_ACCOUNT_STATUS_{status_of(seller).value}"
    status = payments_pb2.SellerAccountStatus.Value(name)
    if seller is None:
        return payments_pb2.SellerAccount(user_id=user_id, status=status)
    return payments_pb2.SellerAccount(
        user_id=seller.user_id,
        status=status,
        payouts_enabled=seller.payouts_enabled,
        requirements_due=list(seller.requirements_due),
        disabled_reason=seller.disabled_reason,
        details_submitted=seller.details_submitted,
        create_time=timestamp(seller.created_at),
    )


def quote_to_proto(quote: FeeQuote) -> payments_pb2.FeeQuote:
    def amount(minor: int) -> str:
        return str(from_minor(minor, quote.currency_code))

    return payments_pb2.FeeQuote(
        currency_code=quote.currency_code,
        quantity=quote.quantity,
        unit_price=amount(quote.unit_price),
        unit_buyer_fee=amount(quote.unit_buyer_fee),
        unit_all_in=amount(quote.unit_all_in),
        unit_commission=amount(quote.unit_commission),
        unit_proceeds=amount(quote.unit_proceeds),
        subtotal=amount(quote.subtotal),
        buyer_fees=amount(quote.buyer_fees),
        total=amount(quote.total),
        commission=amount(quote.commission),
        proceeds=amount(quote.proceeds),
        platform_fee=amount(quote.platform_fee),
    )


def payout_to_proto(payout: Payout) -> payments_pb2.Payout:
    message = payments_pb2.Payout(
        id=payout.id,
        order_id=payout.order_id,
        seller_id=payout.seller_id,
        amount=format_money(from_minor(payout.payable_minor, payout.currency_code)),
        currency_code=payout.currency_code,
        status=payout.status.value,
        reason=payout.reason,
        create_time=timestamp(payout.created_at),
        ticket_id=payout.ticket_id,
    )
    if payout.due_at is not None:
        message.due_time.CopyFrom(timestamp(payout.due_at))
    if payout.paid_at is not None:
        message.paid_time.CopyFrom(timestamp(payout.paid_at))
    return message


def _reader() -> PayoutReader:
    claims = current_user()
    return PayoutReader(claims.user_id, claims.is_admin)


class PaymentsServicer(DisputesRpcs, payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(
        self,
        handlers: PaymentHandlers,
        *,
        reconciliation: LedgerReconciliation,
        onboarding: SellerOnboarding,
        refunds: RefundHandlers,
        refund_runs: RefundRuns,
        disputes: DisputeHandlers,
    ) -> None:
        self.handlers = handlers
        self.reconciliation = reconciliation
        self.onboarding = onboarding
        self.refunds = refunds
        self.refund_runs = refund_runs
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

    async def ReconcileLedger(self, request, context):
        # Operators only (entrypoints/access.py): it reads and reports, and changes nothing else.
        report = await self.reconciliation.run(ON_DEMAND)
        return payments_pb2.ReconcileLedgerResponse(report=report_to_proto(report))

    async def StartSellerOnboarding(self, request, context):
        caller = current_user()
        started = await self.onboarding.start(
            StartSellerOnboarding(caller.user_id, caller.email, request.return_path)
        )
        return payments_pb2.StartSellerOnboardingResponse(
            seller_account=seller_to_proto(caller.user_id, started.seller),
            onboarding_url=started.url,
        )

    async def GetSellerAccount(self, request, context):
        user_id = current_user().user_id
        seller = await self.onboarding.get(user_id)
        return payments_pb2.GetSellerAccountResponse(
            seller_account=seller_to_proto(user_id, seller)
        )

    async def SyncSellerAccount(self, request, context):
        # No user: it only makes our record match what Stripe itself reports; only the gateway
        # (its webhook) may call it (entrypoints/access.py).
        seller = await self.onboarding.sync(request.stripe_account_id)
        if seller is None:
            return payments_pb2.SyncSellerAccountResponse()
        return payments_pb2.SyncSellerAccountResponse(
            seller_account=seller_to_proto(seller.user_id, seller)
        )

    async def QuoteFees(self, request, context):
        lines = [QuoteLine(x.price, x.currency_code, x.quantity, x.event_id) for x in request.lines]
        quotes = await self.handlers.quote_fees(lines)
        return payments_pb2.QuoteFeesResponse(quotes=[quote_to_proto(q) for q in quotes])

    async def BatchGetOrderCharges(self, request, context):
        orders = await self.handlers.order_charges(
            current_user().user_id, list(request.order_ids), forwarded_token(context)
        )
        return payments_pb2.BatchGetOrderChargesResponse(
            charges=[
                payments_pb2.OrderCharges(order_id=o.id, quote=quote_to_proto(o.charges))
                for o in orders
            ]
        )

    async def ListPayouts(self, request, context):
        page = await list_payouts(
            self.handlers.uow,
            _reader(),
            page_request(
                request.page_size,
                request.page_token,
                request.before_page_token,
                request.backward,
            ),
            all_sellers=request.all_sellers,
            status=status_filter(request.status),
        )
        return payments_pb2.ListPayoutsResponse(
            payouts=[payout_to_proto(p) for p in page.items],
            next_page_token=page.next_token,
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
        )

    async def BatchGetPayouts(self, request, context):
        payouts = await batch_get_payouts(self.handlers.uow, _reader(), list(request.ids))
        return payments_pb2.BatchGetPayoutsResponse(payouts=[payout_to_proto(p) for p in payouts])

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
