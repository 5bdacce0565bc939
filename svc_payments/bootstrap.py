"""Wires the payments service: the one place real adapters are chosen (unit tests pass fakes to
`PaymentHandlers` directly; integration tests may pass another Stripe gateway)."""

from __future__ import annotations

from datetime import timedelta

from common.grpc_client import ServiceChannel
from common.grpc_server import GrpcServer
from common.service import Infrastructure, ServiceProcess
from svc_payments.adapters.orders_client import GrpcOrderSource
from svc_payments.adapters.repository import ensure_indexes
from svc_payments.adapters.stripe_balance import StripeBalanceTransactions
from svc_payments.adapters.stripe_disputes import StripeDisputesApi
from svc_payments.adapters.stripe_gateway import StripeApi
from svc_payments.adapters.unit_of_work import MongoPaymentsUnitOfWork
from svc_payments.config import PaymentsSettings
from svc_payments.domain.seller_accounts import SellerAccount
from svc_payments.entrypoints.access import ACCESS
from svc_payments.entrypoints.grpc_api import PaymentsServicer
from svc_payments.entrypoints.payout_sweep import PayoutSweepTimer
from svc_payments.entrypoints.refund_worker import walk_refund_runs
from svc_payments.service_layer.delivery_outcomes import DeliveryOutcomes
from svc_payments.service_layer.disputes import DisputeHandlers
from svc_payments.service_layer.handlers import PaymentHandlers
from svc_payments.service_layer.payouts import PayoutSweep, PayoutTerms, release_waiting_payouts
from svc_payments.service_layer.ports import StripeDisputes, StripeGateway
from svc_payments.service_layer.reconciliation import BalanceTransactions, LedgerReconciliation
from svc_payments.service_layer.refund_runs import RefundRuns
from svc_payments.service_layer.refunds import RefundHandlers
from svc_payments.service_layer.seller_onboarding import OnboardingPages, SellerOnboarding
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork
from ticketing.payments.v1 import payments_pb2, payments_pb2_grpc

NAME = "payments"


def charge_lease(settings: PaymentsSettings) -> timedelta:
    """Long enough for a charge and a refund to time out, so a lease never runs out under a
    request still talking to Stripe."""
    return timedelta(seconds=2 * settings.stripe_timeout_seconds + 5)


def bootstrap(
    settings: PaymentsSettings,
    stripe: StripeGateway | None = None,
    balance: BalanceTransactions | None = None,
    stripe_disputes: StripeDisputes | None = None,
) -> ServiceProcess:
    infra = Infrastructure.from_settings(NAME, settings)

    def stripe_api() -> StripeApi:
        return StripeApi(
            settings.secret_key(), settings.stripe_api_base, settings.stripe_timeout_seconds
        )

    if stripe is None:
        stripe = stripe_api()
    if balance is None:
        sdk = stripe if isinstance(stripe, StripeApi) else stripe_api()
        balance = StripeBalanceTransactions(sdk.client)
    if stripe_disputes is None:
        sdk = stripe if isinstance(stripe, StripeApi) else stripe_api()
        stripe_disputes = StripeDisputesApi(sdk)
    orders = ServiceChannel(
        settings.addr_of("orders"), identity=infra.service_tokens(), audience="orders"
    )
    uow = infra.unit_of_work(MongoPaymentsUnitOfWork)
    terms = PayoutTerms(
        settings.payout_policy, timedelta(seconds=settings.payout_delay_after_event_seconds)
    )
    handlers = PaymentHandlers(
        uow=uow,
        stripe=stripe,
        orders=GrpcOrderSource(orders),
        clock=infra.clock,
        lease_for=charge_lease(settings),
        fees=settings.fee_schedule(),
        payout_terms=terms,
    )
    reconciliation = LedgerReconciliation(
        uow=uow,
        stripe=balance,
        clock=infra.clock,
        policy=settings.reconciliation_policy(),
    )
    interval = settings.reconciliation_interval_seconds

    async def release_payouts_of(tx: PaymentsUnitOfWork, seller: SellerAccount) -> None:
        # In the transaction that records the seller becoming payable.
        await release_waiting_payouts(tx, seller.user_id, infra.clock.now())

    onboarding = SellerOnboarding(
        uow,
        stripe,
        infra.clock,
        OnboardingPages(settings.seller_onboarding_url, settings.stripe_connect_country),
        when_payable=release_payouts_of,
    )
    # A claim outlasts a transfer's call to Stripe timing out, as a charge's lease does.
    sweep = PayoutSweep(uow, stripe, infra.clock, claim_for=charge_lease(settings))

    refunds = RefundHandlers(uow, stripe, infra.clock, lease_for=charge_lease(settings))
    refund_runs = RefundRuns(
        uow,
        refunds,
        infra.clock,
        rate_per_second=settings.refund_rate_per_second,
        batch=settings.refund_run_batch,
    )

    server = GrpcServer(
        infra.verifier,
        settings.shutdown_grace_seconds,
        settings.grpc_max_connection_age_seconds,
        services=infra.services,
    )
    server.add(
        payments_pb2_grpc.add_PaymentsServiceServicer_to_server,
        PaymentsServicer(
            handlers,
            reconciliation=reconciliation,
            onboarding=onboarding,
            refunds=refunds,
            refund_runs=refund_runs,
            disputes=DisputeHandlers(handlers.uow, stripe_disputes, infra.clock),
        ),
        payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name,
        ACCESS,
    )
    outcomes = DeliveryOutcomes(uow, refunds, infra.clock, terms)
    consumer = infra.consumer({**handlers.event_handlers, **outcomes.event_handlers})
    return ServiceProcess(
        NAME,
        server,
        infra,
        consumers=[consumer],
        loops=[
            PayoutSweepTimer(sweep, settings.payout_sweep_seconds).run,
            *([lambda: reconciliation.run_every(interval)] if interval else []),
            lambda: walk_refund_runs(refund_runs, settings.refund_run_poll_seconds),
        ],
        on_start=[lambda: ensure_indexes(infra.db)],
        on_stop=[orders.close],
    )
