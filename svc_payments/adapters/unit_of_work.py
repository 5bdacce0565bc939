"""The payments service's unit of work on MongoDB: order copies, payments, charge leases,
idempotency keys, seller accounts, the ledger's entries, reconciliation's reports, payouts,
event schedules, refunds, refund runs and disputes in one transaction, with the events the
aggregates recorded written to the outbox as integration events
(`outbox_mapping.to_integration`)."""

from __future__ import annotations

from common.mongo import UnitOfWork
from svc_payments.adapters.dispute_store import MongoDisputeRepository
from svc_payments.adapters.ledger_store import MongoLedger
from svc_payments.adapters.outbox_mapping import to_integration
from svc_payments.adapters.payout_store import (
    MongoEventScheduleRepository,
    MongoPayoutRepository,
)
from svc_payments.adapters.reconciliation_store import MongoReconciliationReports
from svc_payments.adapters.refund_store import MongoRefundRepository, MongoRefundRunRepository
from svc_payments.adapters.repository import (
    MongoChargeLeaseRepository,
    MongoIdempotencyRepository,
    MongoOrderRepository,
    MongoPaymentRepository,
    MongoSellerAccountRepository,
)


class MongoPaymentsUnitOfWork(UnitOfWork):
    orders: MongoOrderRepository
    payments: MongoPaymentRepository
    leases: MongoChargeLeaseRepository
    keys: MongoIdempotencyRepository
    seller_accounts: MongoSellerAccountRepository
    ledger: MongoLedger
    reconciliations: MongoReconciliationReports
    payouts: MongoPayoutRepository
    event_schedules: MongoEventScheduleRepository
    refunds: MongoRefundRepository
    refund_runs: MongoRefundRunRepository
    disputes: MongoDisputeRepository
    to_integration = staticmethod(to_integration)

    async def __aenter__(self) -> MongoPaymentsUnitOfWork:
        await super().__aenter__()
        self.orders = MongoOrderRepository(self.db, self)
        self.payments = MongoPaymentRepository(self.db, self)
        self.leases = MongoChargeLeaseRepository(self.db, self)
        self.keys = MongoIdempotencyRepository(self.db, self)
        self.seller_accounts = MongoSellerAccountRepository(self.db, self)
        self.ledger = MongoLedger(self.db, self)
        self.reconciliations = MongoReconciliationReports(self.db, self)
        self.payouts = MongoPayoutRepository(self.db, self)
        self.event_schedules = MongoEventScheduleRepository(self.db, self)
        self.refunds = MongoRefundRepository(self.db, self)
        self.refund_runs = MongoRefundRunRepository(self.db, self)
        self.disputes = MongoDisputeRepository(self.db, self)
        return self
