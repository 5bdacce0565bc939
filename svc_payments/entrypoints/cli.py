"""`ticketing reconcile`: an operator runs the ledger's reconciliation with Stripe now, through
payments' ReconcileLedger (PAYMENTS_ADDR), signed as the `cli` identity (whose private key only
operators hold: SERVICE_PRIVATE_KEY(_FILE), else the key a `ticketing run` beside it made), and
reads the report it wrote (docs/operations.md, "Reconciling the ledger with Stripe").

Exit status: 0 the report found no difference, 1 it found some, 2 no report (the configuration
is unusable, or payments could not be asked or could not ask Stripe)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import TextIO

import grpc
from google.protobuf.json_format import MessageToDict

from common.config import CommonSettings
from common.errors import AppError
from common.service_identity import CLI, ServiceTokens, load_private_key
from common.settings import ConfigError
from svc_payments.domain.currency import from_minor
from ticketing.payments.v1 import payments_pb2 as pb
from ticketing.payments.v1 import payments_pb2_grpc

PROGRAM = "ticketing reconcile"
NAME = "payments"
# Listing a day of Stripe's balance transactions takes a while at 100 a page.
CALL_TIMEOUT_SECONDS = 300


def reconcile_now(settings: CommonSettings) -> pb.ReconciliationReport:
    """ReconcileLedger's report. grpc.RpcError when payments answers with an error; ConfigError
    or ValueError when the `cli` key cannot be read."""
    tokens = ServiceTokens(CLI, load_private_key(settings.service_private_key_of(CLI)))
    with grpc.insecure_channel(settings.addr_of(NAME)) as channel:
        stub = payments_pb2_grpc.PaymentsServiceStub(channel)
        reply = stub.ReconcileLedger(
            pb.ReconcileLedgerRequest(),
            metadata=(tokens.metadata_for(NAME),),
            timeout=CALL_TIMEOUT_SECONDS,
        )
    return reply.report


def money(units: int, currency: str) -> str:
    """12.00 USD; a currency whose digits payments does not know in minor units."""
    try:
        return f"{from_minor(units, currency)} {currency}"
    except AppError:
        return f"{units} {currency} (minor units)"


def _side(amount: int | None, fee: int | None, currency: str, extra: str = "") -> str:
    if amount is None:
        return "none"
    fee_part = f", fee {money(fee or 0, currency)}" if fee else ""
    return f"{money(amount, currency)}{fee_part}{extra}"


def _kind(d: pb.ReconciliationDifference) -> str:
    return pb.ReconciliationDifferenceKind.Name(d.kind).removeprefix(
        "RECONCILIATION_DIFFERENCE_KIND_"
    )


def describe(report: pb.ReconciliationReport) -> list[str]:
    """The report as an operator reads it, a line per finding."""
    start = report.window_start.ToDatetime().isoformat()
    end = report.window_end.ToDatetime().isoformat()
    lines = [
        f"report {report.id} ({report.trigger}), window {start}Z to {end}Z",
        f"matched {report.matched}, differences {len(report.differences)}",
    ]
    for d in report.differences:
        stripe = _side(
            d.stripe_amount if d.HasField("stripe_amount") else None,
            d.stripe_fee,
            d.stripe_currency_code,
            f" ({', '.join(d.transaction_ids)})" if d.transaction_ids else "",
        )
        ledger = _side(
            d.ledger_amount if d.HasField("ledger_amount") else None,
            d.ledger_fee,
            d.ledger_currency_code,
            f" (order {d.order_id})" if d.order_id else "",
        )
        lines.append(f"{_kind(d)} {d.entry_id}: Stripe {stripe}; ledger {ledger}")
    if report.stripe_fees:
        fees = ", ".join(money(f.amount, f.currency_code) for f in report.stripe_fees)
        unrecorded = ", ".join(
            money(f.amount, f.currency_code) for f in report.unrecorded_stripe_fees
        )
        lines.append(f"Stripe's fees: {fees} (not in the ledger: {unrecorded or 'none'})")
    if report.not_compared:
        counts = ", ".join(f"{t.type} {t.count}" for t in report.not_compared)
        lines.append(f"not compared (the ledger does not record them): {counts}")
    return lines


def reconcile(env: Mapping[str, str], as_json: bool = False, out: TextIO = sys.stdout) -> int:
    err = sys.stderr
    try:
        settings = CommonSettings.from_env(env)
        report = reconcile_now(settings)
    except (ConfigError, ValueError) as exc:
        print(f"{PROGRAM}: configuration error: {exc}", file=err)
        return 2
    except grpc.RpcError as exc:
        print(f"{PROGRAM}: payments answered {exc.code().name}: {exc.details()}", file=err)
        return 2
    if as_json:
        print(json.dumps(MessageToDict(report), indent=2), file=out)
    else:
        for line in describe(report):
            print(line, file=out)
    return 1 if report.differences else 0
