"""What must hold after the chaos, checked on a snapshot of the system (tests/chaos/observe.py):

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

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from tests.chaos.load import Flow
from tests.chaos.observe import OPEN, Snapshot

HOLDING = (*OPEN, "COMPLETE")
EXPIRY_SLACK = timedelta(seconds=2)


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str
    at: float | None = None  # wall time of what it concerns (an order's expiresAt), if known

    def __str__(self) -> str:
        return f"{self.invariant}: {self.detail}"


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
