"""What must hold after the chaos, read from where each fact lives: the services' own
databases (`<namespace>_<service>`), Stripe (localstripe) and the broker's dead-letter queues.

- no order open past its `expiresAt` + 2 s;
- no ticket held by two orders, none sold twice;
- each ticket's hold (tickets' `order_id`, orders' copy `held_by`) names its holding order;
- no event lost: every outbox document sent, every ticket in orders' copy at its version,
  every order in payments' copy with its status, and what each buyer was told stands;
- every successful charge belongs to a COMPLETE order (and is its recorded payment) or was
  refunded; every COMPLETE order has one kept charge;
- every dead-letter queue is empty.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pika
import pika.exceptions
import pymongo

from common import bus
from common.mongo import database_name
from tests.chaos.infra import STRIPE_KEY, ChaosStack, quiet_pika
from tests.chaos.load import Flow

OPEN = ("CREATED", "AWAITING_PAYMENT")
HOLDING = (*OPEN, "COMPLETE")
EXPIRY_SLACK = timedelta(seconds=2)
CONSUMERS = ("auth", "tickets", "orders", "payments", "expiration")


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str
    at: float | None = None  # wall time of what it concerns (an order's expiresAt), if known

    def __str__(self) -> str:
        return f"{self.invariant}: {self.detail}"


@dataclass
class Snapshot:
    orders: dict[str, dict]
    order_tickets: dict[str, dict]  # orders' copy of the tickets
    tickets: dict[str, dict]
    payment_orders: dict[str, dict]  # payments' copy of the orders
    payments: list[dict]
    unsent: dict[str, int]  # service -> outbox documents not yet sent
    intents: list[dict]  # localstripe PaymentIntents
    refunds: list[dict]
    queued: dict[str, int]  # queue -> messages in it, every queue but the dead ones
    dead: dict[str, list[dict]]  # dead queue -> its dead letters (peeked, left in place)
    taken_at: datetime


def _by_id(docs: Iterable[dict]) -> dict[str, dict]:
    return {d["_id"]: d for d in docs}


def read_databases(stack: ChaosStack) -> dict[str, Any]:
    with pymongo.MongoClient(stack.mongo_url, tz_aware=True) as client:

        def db(service: str):
            return client[database_name(stack.namespace, service)]

        return {
            "orders": _by_id(db("orders").orders.find()),
            "order_tickets": _by_id(db("orders").tickets.find()),
            "tickets": _by_id(db("tickets").tickets.find()),
            "payment_orders": _by_id(db("payments").orders.find()),
            "payments": list(db("payments").payments.find()),
            "unsent": {s: db(s).outbox.count_documents({"sent_at": None}) for s in CONSUMERS},
        }


def _stripe_list(stack: ChaosStack, resource: str) -> list[dict]:
    items: list[dict] = []
    params: dict[str, Any] = {"limit": 100}
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


def _peek_dead(connection: pika.BlockingConnection, queue: str, limit: int = 20) -> list[dict]:
    channel = connection.channel()
    seen = []
    for _ in range(limit):
        method, props, body = channel.basic_get(queue, auto_ack=False)
        if method is None:
            break
        headers = props.headers or {}
        seen.append(
            {
                "type": props.type,
                "event_id": props.message_id,
                "timestamp": props.timestamp,
                "error": headers.get(bus.ERROR_HEADER),
                "body": body.decode(errors="replace")[:300],
            }
        )
    channel.close()  # unacked: they stay in the queue
    return seen


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
                dead = {name: _peek_dead(connection, name) for name in dead_queues}
            finally:
                with contextlib.suppress(Exception):
                    connection.close()
    return queued, dead


def wait_for_retries(stack: ChaosStack, timeout: float) -> bool:
    """Until no message waits in a retry (or any other holding) queue: what a fault left to
    retry is done before the next fault, so each is judged on its own. False on timeout."""
    main = {bus.queue_name(stack.namespace, s) for s in CONSUMERS}
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
    return Snapshot(
        **read_databases(stack),
        intents=_stripe_list(stack, "payment_intents"),
        refunds=_stripe_list(stack, "refunds"),
        queued=queued,
        dead=dead,
        taken_at=taken_at,
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


def _due(order: dict | None) -> float | None:
    if order is None or order.get("expires_at") is None:
        return None
    return order["expires_at"].timestamp()


def check(snap: Snapshot, flows: Iterable[Flow]) -> list[Violation]:
    found: list[Violation] = []

    def violation(invariant: str, detail: str, order: dict | None = None) -> None:
        found.append(Violation(invariant, detail, _due(order)))

    orders = snap.orders
    # No order open past its due time.
    for order in orders.values():
        if order["status"] in OPEN and order["expires_at"] + EXPIRY_SLACK < snap.taken_at:
            late = (snap.taken_at - order["expires_at"]).total_seconds()
            violation(
                "order stuck open",
                f"order {order['_id']} still {order['status']} {late:.1f}s after expiresAt",
                order,
            )

    # One holder per ticket, one sale per ticket.
    holders: dict[str, list[dict]] = defaultdict(list)
    for order in orders.values():
        if order["status"] in HOLDING:
            holders[order["ticket_id"]].append(order)
    for ticket_id, held in holders.items():
        sold = [o["_id"] for o in held if o["status"] == "COMPLETE"]
        if len(sold) > 1:
            violation("ticket sold twice", f"ticket {ticket_id} by orders {sold}", held[0])
        elif len(held) > 1:
            ids = [o["_id"] for o in held]
            violation("ticket held twice", f"ticket {ticket_id} by orders {ids}", held[0])

    # Every ticket's hold agrees with its order; orders' copy is complete and current.
    for ticket in snap.tickets.values():
        held = holders.get(ticket["_id"], [])
        expected = held[0]["_id"] if len(held) == 1 else None
        if len(held) > 1:
            continue  # reported above
        subject = held[0] if held else None
        if ticket.get("order_id") != expected:
            holder = orders.get(ticket.get("order_id") or "")
            violation(
                "hold disagrees (tickets)",
                f"ticket {ticket['_id']} held by {ticket.get('order_id')} "
                f"({holder['status'] if holder else 'no such order'}); expected {expected}",
                subject or holder,
            )
        copy = snap.order_tickets.get(ticket["_id"])
        if copy is None:
            violation("event lost", f"ticket {ticket['_id']} never reached orders (TicketCreated)")
            continue
        if copy.get("version") != ticket.get("version"):
            violation(
                "event lost",
                f"ticket {ticket['_id']} is v{ticket.get('version')} in tickets, "
                f"v{copy.get('version')} in orders' copy",
                subject,
            )
        if copy.get("held_by") != expected:
            holder = orders.get(copy.get("held_by") or "")
            violation(
                "hold disagrees (orders' copy)",
                f"ticket {ticket['_id']} held_by {copy.get('held_by')} "
                f"({holder['status'] if holder else 'no such order'}); expected {expected}",
                subject or holder,
            )

    # Payments heard every order and its end.
    for order in orders.values():
        copy = snap.payment_orders.get(order["_id"])
        status = "CREATED" if order["status"] in OPEN else order["status"]
        if copy is None:
            violation("event lost", f"order {order['_id']} never reached payments", order)
        elif copy["status"] != status:
            violation(
                "event lost",
                f"order {order['_id']} is {order['status']}, payments' copy {copy['status']}",
                order,
            )
    for service, count in snap.unsent.items():
        if count:
            violation("event lost", f"{count} outbox documents of {service} never sent")

    found.extend(_check_charges(snap))
    found.extend(_check_flows(snap, flows))

    for queue, letters in snap.dead.items():
        for letter in letters:
            found.append(
                Violation(
                    "dead letter",
                    f"{queue}: {letter['type']} {letter['event_id']}: {letter['error']}",
                    letter["timestamp"],
                )
            )
    return found


def _check_charges(snap: Snapshot) -> list[Violation]:
    found: list[Violation] = []
    orders = snap.orders
    refunded = {r.get("payment_intent") for r in snap.refunds} | {
        r.get("charge") for r in snap.refunds
    }
    refunded.discard(None)
    recorded = {p["stripe_id"]: p for p in snap.payments}
    kept: dict[str, list[str]] = defaultdict(list)
    for intent in snap.intents:
        if intent.get("status") != "succeeded":
            continue
        charge = intent.get("latest_charge")
        charge_id = charge.get("id") if isinstance(charge, dict) else charge
        if intent["id"] in refunded or charge_id in refunded:
            continue
        order_id = (intent.get("metadata") or {}).get("order_id", "")
        order = orders.get(order_id)
        kept[order_id].append(intent["id"])
        if order is None or order["status"] != "COMPLETE":
            state = order["status"] if order else "no such order"
            found.append(
                Violation(
                    "charge kept for an order not COMPLETE",
                    f"{intent['id']} ({intent.get('amount')} cents) for order {order_id} "
                    f"({state}), not refunded",
                    _due(order),
                )
            )
        elif recorded.get(intent["id"], {}).get("status") != "succeeded":
            payment = recorded.get(intent["id"])
            found.append(
                Violation(
                    "charge without its record",
                    f"{intent['id']} for order {order_id}: payments has "
                    f"{payment['status'] if payment else 'no payment'} for it",
                    _due(order),
                )
            )
    for order in orders.values():
        if order["status"] == "COMPLETE" and len(kept.get(order["_id"], [])) != 1:
            found.append(
                Violation(
                    "complete order without exactly one kept charge",
                    f"order {order['_id']}: kept charges {kept.get(order['_id'], [])}",
                    _due(order),
                )
            )
    for payment in snap.payments:
        order = orders.get(payment["order_id"])
        if payment["status"] == "succeeded" and (order is None or order["status"] != "COMPLETE"):
            found.append(
                Violation(
                    "payment succeeded for an order not COMPLETE",
                    f"payment {payment['_id']} ({payment['stripe_id']}) for order "
                    f"{payment['order_id']} ({order['status'] if order else 'no such order'})",
                    _due(order),
                )
            )
    return found


def _check_flows(snap: Snapshot, flows: Iterable[Flow]) -> list[Violation]:
    """What each buyer and seller was told still stands."""
    found: list[Violation] = []
    refunded_orders = {p["order_id"] for p in snap.payments if p["status"] == "refunded"}
    for flow in flows:
        if flow.ticket_id and flow.ticket_id not in snap.tickets:
            found.append(
                Violation("lost write", f"ticket {flow.ticket_id} was created but is gone")
            )
        if not flow.order_id:
            continue
        order = snap.orders.get(flow.order_id)
        if order is None:
            found.append(Violation("lost write", f"order {flow.order_id} was placed but is gone"))
            continue
        status = order["status"]
        if status in OPEN:
            continue  # an order stuck open is reported as such
        refunded = flow.order_id in refunded_orders
        if _told_otherwise(flow.answer, status, refunded=refunded):
            found.append(
                Violation(
                    "buyer told otherwise",
                    f"order {flow.order_id}: the buyer was told {flow.answer!r}, it is {status}",
                    _due(order),
                )
            )
    return found


def _told_otherwise(answer: str, status: str, *, refunded: bool) -> bool:
    """A buyer told "paid" may see the order cancelled only with the charge refunded (it
    expired while the charge went through); "declined" and "left" orders end cancelled."""
    if answer == "paid":
        return status != "COMPLETE" and not (status == "CANCELLED" and refunded)
    if answer in ("declined", "left"):
        return status != "CANCELLED"
    return False
