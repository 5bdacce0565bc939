"""The ledger's reconciliation with Stripe against the Stripe stand-in (driven through the SDK)
and SecantusDB: a charge and the transfer of part of it to a seller, recorded as Stripe moved
them, match; an entry for a transfer Stripe never made and a charge no entry records are exactly
the two differences, with their figures; the cursor keeps a window from being reported twice.
Then `ticketing reconcile` through payments' ReconcileLedger, and payments' own periodic run."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client import REGISTRY

from common.clock import SystemClock
from common.errors import Unavailable
from common.mongo import database_name, mongo_client
from stripe_standin.payments import card_fee
from svc_payments.adapters.reconciliation_store import CURSOR, REPORTS
from svc_payments.adapters.repository import ensure_indexes
from svc_payments.adapters.stripe_balance import StripeBalanceTransactions
from svc_payments.adapters.stripe_gateway import StripeApi
from svc_payments.adapters.unit_of_work import MongoPaymentsUnitOfWork
from svc_payments.bootstrap import bootstrap
from svc_payments.config import PaymentsSettings
from svc_payments.domain import ledger
from svc_payments.domain.ledger import EntryKind, JournalEntry
from svc_payments.domain.reconciliation import (
    Difference,
    DifferenceKind,
    ReconciliationPolicy,
    Window,
)
from svc_payments.service_layer.reconciliation import LedgerReconciliation
from tests.support import stripe_standin
from tests.support.servers import free_port

pytestmark = pytest.mark.integration

SECRET_KEY = "sk_test_standin"
SELLER = "seller-1"
# Judge everything up to the moment of the run; overlap the last window by a minute.
POLICY = ReconciliationPolicy(grace=timedelta(0), overlap=timedelta(minutes=1))


@pytest.fixture
def api_base() -> Iterator[str]:
    """A stand-in of this test's own: its balance holds only this test's transactions."""
    with stripe_standin.running() as url:
        yield url


@pytest.fixture
async def mongo(mongo_url):
    client = mongo_client(mongo_url)
    yield client
    await client.close()


@pytest.fixture
async def db(mongo, namespace):
    database = mongo[database_name(namespace, "payments")]
    await ensure_indexes(database)
    return database


@pytest.fixture
def job(mongo, db, api_base) -> LedgerReconciliation:
    sdk = StripeApi(SECRET_KEY, api_base).client
    return LedgerReconciliation(
        uow=lambda: MongoPaymentsUnitOfWork(mongo, db, "payments"),
        stripe=StripeBalanceTransactions(sdk),
        clock=SystemClock(),
        policy=POLICY,
    )


def charged(sdk, cents: int, currency: str):
    """A PaymentIntent paid with pm_card_visa: its charge."""
    intent = sdk.v1.payment_intents.create(
        {
            "amount": cents,
            "currency": currency,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "payment_method_types": ["card"],
            "transfer_group": "order_order-1",
        }
    )
    return sdk.v1.charges.retrieve(intent.latest_charge)


def onboarded_account(sdk, api_base: str) -> str:
    account = sdk.v1.accounts.create({"type": "express", "email": "seller@example.com"})
    httpx.post(f"{api_base}/_standin/accounts/{account.id}/complete_onboarding").raise_for_status()
    return account.id


def transfer_entry(source: str, cents: int) -> JournalEntry:
    return JournalEntry.moving(
        EntryKind.TRANSFER,
        source,
        "order-1",
        "EUR",
        cents,
        debit=ledger.seller_payable(SELLER),
        credit=ledger.STRIPE_BALANCE,
        created_at=datetime.now(UTC),
    )


def runs(trigger: str, outcome: str) -> float:
    labels = {"trigger": trigger, "outcome": outcome}
    return REGISTRY.get_sample_value("ticketing_payments_reconciliation_runs_total", labels) or 0


async def post(mongo, db, *entries: JournalEntry) -> None:
    async with MongoPaymentsUnitOfWork(mongo, db, "payments") as uow:
        for entry in entries:
            assert await uow.ledger.post(entry)
        await uow.commit()


def a_moment_later() -> datetime:
    """Now, once the second Stripe dates what was just made in has passed (a window ends before
    `now`; Stripe's `created` is in whole seconds)."""
    time.sleep(0.05)
    return datetime.now(UTC)


async def test_stripe_and_the_ledger_agree_then_differ_by_exactly_what_was_done(
    job, mongo, db, api_base
):
    sdk = stripe_standin.client(api_base)
    charge = charged(sdk, 5500, "eur")
    transfer = sdk.v1.transfers.create(
        {
            "amount": 4750,
            "currency": "eur",
            "destination": onboarded_account(sdk, api_base),
            "source_transaction": charge.id,
            "transfer_group": "order_order-1",
        }
    )
    await post(
        mongo,
        db,
        ledger.charge(charge.id, "order-1", "EUR", SELLER, 5500, 4750, datetime.now(UTC)),
        transfer_entry(transfer.id, 4750),
    )

    first = (await job.run(now=a_moment_later())).result
    assert (first.matched, first.differences) == (2, ())
    # Stripe's fee on the charge is reported apart: the ledger records none.
    assert first.stripe_fees == first.unrecorded_stripe_fees == {"EUR": card_fee(5500)}

    # A transfer recorded that Stripe never made, and a charge Stripe made that no entry records.
    await post(mongo, db, transfer_entry("tr_never_made", 300))
    unrecorded = charged(sdk, 1200, "usd")
    second = (await job.run(now=a_moment_later())).result
    assert second.window.start < first.window.end  # the windows overlap ...
    assert second.matched == 0  # ... and what the first judged is not judged again
    assert sorted(second.differences, key=lambda d: d.kind) == [
        Difference(
            DifferenceKind.MISSING_AT_STRIPE,
            "transfer:tr_never_made",
            "tr_never_made",
            order_id="order-1",
            ledger_amount=-300,  # a transfer leaves the balance
            ledger_fee=0,
            ledger_currency="EUR",
        ),
        Difference(
            DifferenceKind.MISSING_IN_LEDGER,
            f"charge:{unrecorded.id}",
            unrecorded.id,
            transaction_ids=(unrecorded.balance_transaction,),
            stripe_amount=1200,
            stripe_fee=card_fee(1200),
            stripe_currency="USD",
        ),
    ]

    third = (await job.run(now=a_moment_later())).result
    assert (third.matched, third.differences) == (0, ())

    reports = await db[REPORTS].find({}, sort=[("created_at", 1)]).to_list()
    assert [r["counts"]["MISSING_IN_LEDGER"] for r in reports] == [0, 1, 0]
    assert [r["counts"]["MISSING_AT_STRIPE"] for r in reports] == [0, 1, 0]
    assert [r["matched"] for r in reports] == [2, 0, 0]
    by_kind = {d["kind"]: d for d in reports[1]["differences"]}
    assert by_kind["MISSING_AT_STRIPE"]["ledger"] == {
        "amount": -300,
        "fee": 0,
        "currency": "EUR",
    }
    assert by_kind["MISSING_IN_LEDGER"]["stripe"] == {
        "amount": 1200,
        "fee": card_fee(1200),
        "currency": "USD",
    }
    cursor = await db[CURSOR].find_one({})
    assert cursor["version"] == 3
    assert cursor["judged_until"] == reports[2]["window"]["end"]

    # Judging a window of one's choosing (as the chaos test will) neither reads nor moves the
    # cursor, writes no report, and finds the same however often it is asked.
    everything = Window(first.window.start, third.window.end)
    for _ in range(2):
        judged = await job.judge(everything)
        assert judged.matched == 2
        assert judged.differences == second.differences
    assert await db[REPORTS].count_documents({}) == 3


async def test_an_entry_whose_balance_transaction_is_before_the_window_is_found_by_source(
    mongo, db, api_base
):
    sdk = stripe_standin.client(api_base)
    charge = charged(sdk, 2000, "eur")
    # Its entry is written two seconds later: the first window starts a second before the
    # ledger's first entry, after the charge's balance transaction, which is looked up by its
    # source rather than called missing.
    await asyncio.sleep(2.1)
    entry = ledger.charge(charge.id, "order-1", "EUR", SELLER, 2000, 1700, datetime.now(UTC))
    await post(mongo, db, entry)
    job = LedgerReconciliation(
        uow=lambda: MongoPaymentsUnitOfWork(mongo, db, "payments"),
        stripe=StripeBalanceTransactions(StripeApi(SECRET_KEY, api_base).client),
        clock=SystemClock(),
        policy=ReconciliationPolicy(grace=timedelta(0), overlap=timedelta(seconds=1)),
    )
    report = (await job.run(now=a_moment_later())).result
    assert report.window.start > datetime.fromtimestamp(charge.created, UTC)
    assert (report.matched, report.differences) == (1, ())


@pytest.fixture
async def payments(env, api_base, mongo, db) -> AsyncIterator[dict[str, str]]:
    """The payments service, pointed at the stand-in; yields the environment that reaches it."""
    settings_env = {
        **env,
        "STRIPE_API_BASE": api_base,
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "RECONCILIATION_GRACE_SECONDS": "0",
        "RECONCILIATION_OVERLAP_SECONDS": "60",
    }
    process = bootstrap(PaymentsSettings.from_env(settings_env))
    port = await process.start("127.0.0.1", 0)
    yield {**settings_env, "PAYMENTS_ADDR": f"127.0.0.1:{port}"}
    await process.stop()


def ticketing_reconcile(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from common.cli import main; main()", "reconcile", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_ticketing_reconcile_prints_the_report_payments_wrote(payments, api_base, db):
    sdk = stripe_standin.client(api_base)
    unrecorded = charged(sdk, 1200, "usd")
    a_moment_later()
    done = await asyncio.to_thread(ticketing_reconcile, payments)
    assert done.returncode == 1, done.stderr  # a difference
    lines = done.stdout.splitlines()
    assert lines[1] == "matched 0, differences 1"
    assert lines[2] == (
        f"MISSING_IN_LEDGER charge:{unrecorded.id}: Stripe 12.00 USD, fee 0.65 USD"
        f" ({unrecorded.balance_transaction}); ledger none"
    )
    assert lines[3] == "Stripe's fees: 0.65 USD (not in the ledger: 0.65 USD)"
    report = await db[REPORTS].find_one({})
    assert lines[0].startswith(f"report {report['_id']} (on_demand), window ")

    again = await asyncio.to_thread(ticketing_reconcile, payments, "--json")
    assert again.returncode == 0, again.stderr  # nothing new since
    second = json.loads(again.stdout)
    assert "differences" not in second  # proto3 JSON leaves empty fields out
    assert second["id"] == (await db[REPORTS].find_one({"_id": {"$ne": report["_id"]}}))["_id"]


async def test_payments_reconciles_on_its_own_when_its_interval_is_set(env, api_base, db):
    settings_env = {
        **env,
        "STRIPE_API_BASE": api_base,
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "RECONCILIATION_INTERVAL_SECONDS": "0.2",
    }
    process = bootstrap(PaymentsSettings.from_env(settings_env))
    await process.start("127.0.0.1", 0)
    try:
        deadline = time.monotonic() + 10
        while await db[REPORTS].find_one({"trigger": "schedule"}) is None:
            assert time.monotonic() < deadline, "no scheduled report within 10 s"
            await asyncio.sleep(0.1)
    finally:
        await process.stop()


async def test_when_stripe_cannot_be_asked_no_report_is_written_and_the_cursor_stays(
    mongo, db, job
):
    closed = f"http://127.0.0.1:{free_port()}"
    unreachable = LedgerReconciliation(
        uow=lambda: MongoPaymentsUnitOfWork(mongo, db, "payments"),
        stripe=StripeBalanceTransactions(StripeApi(SECRET_KEY, closed, timeout=2).client),
        clock=SystemClock(),
        policy=POLICY,
    )
    failed_before = runs("on_demand", "failed")
    with pytest.raises(Unavailable):
        await unreachable.run(now=datetime.now(UTC))
    assert runs("on_demand", "failed") == failed_before + 1
    assert await db[REPORTS].count_documents({}) == 0
    assert await db[CURSOR].count_documents({}) == 0
    # The window is judged by the next run that can ask Stripe.
    await post(mongo, db, transfer_entry("tr_never_made", 300))
    report = (await job.run(now=a_moment_later())).result
    assert [d.entry_id for d in report.differences] == ["transfer:tr_never_made"]
    assert (
        REGISTRY.get_sample_value(
            "ticketing_payments_reconciliation_differences", {"kind": "MISSING_AT_STRIPE"}
        )
        == 1
    )


async def test_runs_at_once_in_two_processes_report_each_difference_once(mongo, db, api_base):
    charged(stripe_standin.client(api_base), 1200, "usd")
    await post(mongo, db, transfer_entry("tr_never_made", 300))
    now = a_moment_later()

    def replica() -> LedgerReconciliation:
        return LedgerReconciliation(
            uow=lambda: MongoPaymentsUnitOfWork(mongo, db, "payments"),
            stripe=StripeBalanceTransactions(StripeApi(SECRET_KEY, api_base).client),
            clock=SystemClock(),
            policy=POLICY,
        )

    reports = await asyncio.gather(replica().run(now=now), replica().run(now=now))
    reported = [d.entry_id for r in reports for d in r.result.differences]
    assert sorted(reported) == sorted({*reported}) and len(reported) == 2
    assert (await db[CURSOR].find_one({}))["version"] == 2
