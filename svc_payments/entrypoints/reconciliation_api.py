"""A reconciliation report as ReconcileLedger answers it (payments.proto)."""

from __future__ import annotations

from collections.abc import Mapping

from common.protos import timestamp
from svc_payments.domain.reconciliation import Difference, ReconciliationReport
from ticketing.payments.v1 import payments_pb2 as pb


def _amounts(by_currency: Mapping[str, int]) -> list[pb.CurrencyAmount]:
    return [pb.CurrencyAmount(currency_code=c, amount=a) for c, a in by_currency.items()]


def difference_to_proto(d: Difference) -> pb.ReconciliationDifference:
    return pb.ReconciliationDifference(
        kind=pb.ReconciliationDifferenceKind.Value(f"RECONCILIATION_DIFFERENCE_KIND_{d.kind}"),
        entry_id=d.entry_id,
        source=d.source,
        order_id=d.order_id,
        transaction_ids=list(d.transaction_ids),
        stripe_amount=d.stripe_amount,
        stripe_fee=d.stripe_fee,
        stripe_currency_code=d.stripe_currency,
        ledger_amount=d.ledger_amount,
        ledger_fee=d.ledger_fee,
        ledger_currency_code=d.ledger_currency,
    )


def report_to_proto(report: ReconciliationReport) -> pb.ReconciliationReport:
    result = report.result
    return pb.ReconciliationReport(
        id=report.id,
        create_time=timestamp(report.created_at),
        trigger=report.trigger,
        window_start=timestamp(result.window.start),
        window_end=timestamp(result.window.end),
        matched=result.matched,
        differences=[difference_to_proto(d) for d in result.differences],
        stripe_fees=_amounts(result.stripe_fees),
        unrecorded_stripe_fees=_amounts(result.unrecorded_stripe_fees),
        not_compared=[pb.TypeCount(type=t, count=n) for t, n in result.not_compared.items()],
        internal_entries=result.internal_entries,
    )
