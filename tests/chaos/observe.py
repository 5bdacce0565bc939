"""Reading the system's state where each fact lives: the services' own databases
(`<namespace>_<service>`), Stripe (the project's stand-in) and the broker's queues; and
waiting, bounded, until it is quiet. Payments' ledger is also judged against Stripe's balance
transactions by the reconciliation job's own `judge` (nothing written, no cursor moved)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pika
import pika.exceptions
import pymongo

from common import bus
from common.bus.dead_letters import peek
from common.clock import SystemClock
from common.mongo import database_name, mongo_client
from svc_delivery.domain.methods import DeliveryStatus
from svc_payments.adapters.stripe_balance import StripeBalanceTransactions
from svc_payments.adapters.stripe_gateway import StripeApi
from svc_payments.adapters.unit_of_work import MongoPaymentsUnitOfWork
from svc_payments.domain.reconciliation import (
    Difference,
    Reconciliation,
    ReconciliationPolicy,
    Window,
)
from svc_payments.service_layer.reconciliation import LedgerReconciliation
from tests.chaos.infra import STRIPE_KEY, ChaosStack, quiet_pika

OPEN = ("CREATED", "AWAITING_PAYMENT")
DUE = DeliveryStatus.DUE.value
TRANSFERRED = "transfer.created"
CONSUMERS = ("auth", "tickets", "orders", "payments", "expiration", "delivery", "notifications")


@dataclass
class Snapshot:
    orders: dict[str, dict]
    tickets: dict[str, dict]
    payment_orders: dict[str, dict]  # payments' copy of the orders
    payments: list[dict]
    unsent: dict[str, int]  # service -> outbox documents not yet sent
    intents: list[dict]  # the Stripe stand-in's PaymentIntents
    refunds: list[dict]
    queued: dict[str, int]  # queue -> messages in it, every queue but the dead ones
    dead: dict[str, list[dict]]  # dead queue -> its dead letters (peeked, left in place)
    taken_at: datetime
    # Payments' money: its ledger's entries (`ledger_entries`, as stored), its payouts, its
    # sellers' accounts (by user id), and every transfer Stripe made (`read_transfers`).
    ledger_entries: list[dict] = field(default_factory=list)
    payouts: list[dict] = field(default_factory=list)
    transfers: dict[str, dict] = field(default_factory=dict)  # tr_... -> Stripe's transfer
    seller_accounts: dict[str, dict] = field(default_factory=dict)
    # The reconciliation of the whole run (`reconcile_run`): every difference, and how many
    # pairs of an entry and Stripe's balance transactions agreed.
    ledger_differences: list[Difference] = field(default_factory=list)
    reconciled: int = 0
    # Deliveries (tests/chaos/delivery_checks.py): delivery's deliveries (by order id) and its
    # sellers' records (by seller id); payments' refunds, as stored; notifications' mail outbox,
    # as stored, and what the mail server (maildev) received, as its REST API shows it.
    deliveries: dict[str, dict] = field(default_factory=dict)
    seller_records: dict[str, dict] = field(default_factory=dict)
    payment_refunds: list[dict] = field(default_factory=list)
    mails: list[dict] = field(default_factory=list)
    mailbox: list[dict] = field(default_factory=list)
    # Delivery's passes, None while its database has no `passes` collection; and every issue
    # of a pass heard of, (pass id, holder, serial): none read yet (check_passes's hook).
    passes: list[dict] | None = None
    pass_issues: list[tuple[str, str, int]] = field(default_factory=list)


def _by_id(docs: Iterable[dict]) -> dict[str, dict]:
    return {d["_id"]: d for d in docs}


def read_databases(stack: ChaosStack) -> dict[str, Any]:
    with pymongo.MongoClient(stack.mongo_url, tz_aware=True) as client:

        def db(service: str):
            return client[database_name(stack.namespace, service)]

        return {
            "orders": _by_id(db("orders").orders.find()),
            "tickets": _by_id(db("tickets").tickets.find()),
            "payment_orders": _by_id(db("payments").orders.find()),
            "payments": list(db("payments").payments.find()),
            "ledger_entries": list(db("payments").ledger_entries.find()),
            "payouts": list(db("payments").payouts.find()),
            "seller_accounts": _by_id(db("payments").seller_accounts.find()),
            "unsent": {s: db(s).outbox.count_documents({"sent_at": None}) for s in CONSUMERS},
            "deliveries": _by_id(db("delivery").deliveries.find()),
            "seller_records": _by_id(db("delivery").seller_records.find()),
            "payment_refunds": list(db("payments").refunds.find()),
            "mails": list(db("notifications").mails.find()),
            "passes": (
                list(db("delivery").passes.find())
                if "passes" in db("delivery").list_collection_names()
                else None
            ),
        }


def read_mailbox(stack: ChaosStack) -> list[dict]:
    """Every mail the run's maildev received (it is never killed: it stands for the relay)."""
    reply = httpx.get(f"{stack.mail.url}/email", timeout=30)
    reply.raise_for_status()
    return reply.json()


def _stripe_list(stack: ChaosStack, resource: str, **query: str) -> list[dict]:
    items: list[dict] = []
    params: dict[str, Any] = {"limit": 100, **query}
    headers = {"authorization": f"Bearer {STRIPE_KEY}"}
    for _ in range(1000):  # bounded: 100,000 objects
        reply = httpx.get(f"{stack.stripe_url}/v1/{resource}", params=params, headers=headers)
        reply.raise_for_status()
        page = reply.json()
        items.extend(page["data"])
        if not page.get("has_more") or not page["data"]:
            break
        params["starting_after"] = page["data"][-1]["id"]
    return items


def _stripe_get(stack: ChaosStack, path: str) -> dict | None:
    headers = {"authorization": f"Bearer {STRIPE_KEY}"}
    reply = httpx.get(f"{stack.stripe_url}/v1/{path}", headers=headers)
    if reply.status_code == 404:
        return None
    reply.raise_for_status()
    return reply.json()


def read_transfers(stack: ChaosStack, payouts: Iterable[dict]) -> dict[str, dict]:
    """Every transfer Stripe made (each announced by a `transfer.created` event: the stand-in
    answers no list of transfers), and any a payout names, each as Stripe holds it now (with
    its reversals)."""
    made = {e["data"]["object"]["id"] for e in _stripe_list(stack, "events", type=TRANSFERRED)}
    ids = sorted(made | {p["transfer_id"] for p in payouts if p.get("transfer_id")})
    found = {i: _stripe_get(stack, f"transfers/{i}") for i in ids}
    return {i: t for i, t in found.items() if t is not None}


# The stand-in and the database are the run's own: everything in them is the run's. A window
# from a day back to a moment ahead holds all of it (Stripe dates to the whole second).
RUN_WINDOW_BACK, RUN_WINDOW_AHEAD = timedelta(days=1), timedelta(seconds=2)


def reconcile_run(stack: ChaosStack, now: datetime) -> Reconciliation:
    """The reconciliation job, built as payments builds it (its unit of work over payments'
    database, Stripe's balance transactions through the SDK), judging the whole run: run once
    the system is quiet, so nothing is on its way (no grace)."""

    async def judge() -> Reconciliation:
        client = mongo_client(stack.mongo_url)
        try:
            db = client[database_name(stack.namespace, "payments")]
            job = LedgerReconciliation(
                uow=lambda: MongoPaymentsUnitOfWork(client, db, "payments"),
                stripe=StripeBalanceTransactions(StripeApi(STRIPE_KEY, stack.stripe_url).client),
                clock=SystemClock(),
                policy=ReconciliationPolicy(grace=timedelta(0), overlap=timedelta(0)),
            )
            return await job.judge(Window(now - RUN_WINDOW_BACK, now + RUN_WINDOW_AHEAD))
        finally:
            await client.close()

    return asyncio.run(judge())


def _connect(stack: ChaosStack) -> pika.BlockingConnection:
    params = pika.URLParameters(stack.rabbit.url)
    params.connection_attempts, params.socket_timeout = 3, 5
    return pika.BlockingConnection(params)


def _ready_counts(stack: ChaosStack, names: Iterable[str]) -> dict[str, int]:
    """Messages ready in each queue, by passive declares: cheap enough to poll (rabbitmqctl
    starts an Erlang VM each time). A queue that does not exist closes the channel."""
    counts = {}
    with quiet_pika():
        connection = _connect(stack)
        try:
            channel = connection.channel()
            for name in names:
                try:
                    counts[name] = channel.queue_declare(name, passive=True).method.message_count
                except pika.exceptions.ChannelClosedByBroker:
                    channel = connection.channel()
        finally:
            with contextlib.suppress(Exception):
                connection.close()
    return counts


def list_queues(stack: ChaosStack) -> dict[str, int]:
    """Every queue of the namespace with its messages (ready and unacknowledged), named by the
    harness or not; remembered, so that polling can ask about each by name."""
    queues = {
        name: count
        for name, count in stack.rabbit.list_queues().items()
        if name.startswith(f"{stack.namespace}.")
    }
    stack.queue_names = sorted(set(stack.queue_names) | set(queues))
    return queues


def read_broker(
    stack: ChaosStack, *, thorough: bool = False
) -> tuple[dict[str, int], dict[str, list[dict]]]:
    """(messages in each queue but the dead ones, the dead letters of each dead queue that has
    any). `thorough`: every queue the broker has, by rabbitmqctl; otherwise the ones known."""
    queues = list_queues(stack) if thorough else _ready_counts(stack, stack.queue_names)
    queued = {name: count for name, count in queues.items() if not name.endswith(".dead")}
    dead_queues = [name for name, count in queues.items() if name.endswith(".dead") and count]
    dead: dict[str, list[dict]] = {}
    if dead_queues:
        with quiet_pika():
            connection = _connect(stack)
            try:
                dead = {name: peek(connection, name, limit=20) for name in dead_queues}
            finally:
                with contextlib.suppress(Exception):
                    connection.close()
    return queued, dead


def wait_for_retries(stack: ChaosStack, timeout: float) -> bool:
    """Until no message waits in a retry (or any other holding) queue: what a fault left to
    retry is done before the next fault, so each is judged on its own. False on timeout."""
    main = {bus.queue_name(stack.namespace, s) for s in (*CONSUMERS, "insights")}
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            queued, _ = read_broker(stack)
            if not any(count for name, count in queued.items() if name not in main):
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


def snapshot(stack: ChaosStack) -> Snapshot:
    taken_at = datetime.now(UTC)
    queued, dead = read_broker(stack, thorough=True)
    state = read_databases(stack)
    reconciliation = reconcile_run(stack, taken_at)
    return Snapshot(
        **state,
        mailbox=read_mailbox(stack),
        intents=_stripe_list(stack, "payment_intents"),
        refunds=_stripe_list(stack, "refunds"),
        transfers=read_transfers(stack, state["payouts"]),
        queued=queued,
        dead=dead,
        taken_at=taken_at,
        ledger_differences=list(reconciliation.differences),
        reconciled=reconciliation.matched,
    )


def settle(stack: ChaosStack, timeout: float) -> tuple[bool, str]:
    """Waits (bounded) until the system is quiet: every order terminal, every outbox sent,
    every queue empty. Returns whether it got there, and what was still moving if not."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            state = read_databases(stack)
            queued, _ = read_broker(stack)
            busy = {
                "open orders": sum(o["status"] in OPEN for o in state["orders"].values()),
                # Due (the run's delay is short) and payable: the sweep has yet to pay them.
                "payouts not yet paid": sum(p["status"] == "SCHEDULED" for p in state["payouts"]),
                # Paid before their order's cancellation came: the sweep reverses them.
                "transfers to reverse": sum(
                    p.get("reversal_owed_minor", 0) > 0 for p in state["payouts"]
                ),
                # Every delivery's deadline is short in the run: each DUE one ends MISSED.
                "deliveries due": sum(d["status"] == DUE for d in state["deliveries"].values()),
                "refunds being made": sum(
                    r["state"] == "APPROVED" for r in state["payment_refunds"]
                ),
                "mails not yet sent": sum(m["status"] == "pending" for m in state["mails"]),
                "unsent events": sum(state["unsent"].values()),
                "queued messages": sum(queued.values()),
                "webhooks not yet accepted": stack.webhooks.pending,
            }
        except Exception as exc:  # a part still coming back; look again
            busy = {f"unreadable ({type(exc).__name__}: {exc})": 1}
        if not any(busy.values()):
            return True, ""
        if time.monotonic() > deadline:
            return False, ", ".join(f"{k}: {v}" for k, v in busy.items() if v)
        time.sleep(0.5)
