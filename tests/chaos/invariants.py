"""What must hold after the chaos, checked on a snapshot of the system (tests/chaos/observe.py):

- no order open past its `expiresAt` + 2 s;
- no seat held by two orders, none sold twice (tickets, the one authority on seats);
- the listings' holds and the orders agree: every placed open or paid order holds its seats
  (sold once paid), and no seat is held by an order that ended;
- no event lost: every outbox document sent, every order in payments' copy with its status,
  and what each buyer was told stands;
- every successful charge belongs to a COMPLETE order (and is its recorded payment) or was
  refunded; every COMPLETE order has one kept charge (none once its delivery was missed);
- every dead-letter queue is empty;
- payments' ledger (`ledger_entries`) and its payouts hold what Stripe did:
  - every entry's postings sum to zero (two postings at least, none of nothing), so per order
    the entries sum to zero;
  - a COMPLETE order's kept charge has exactly one `charge:` entry, whose `stripe_balance`
    posting is the amount Stripe charged;
  - per order and currency, what the entries moved on `stripe_balance` is what Stripe kept of
    the order's money: its succeeded charges less their refunds, less the transfers of its
    payout (a charge refunded because its order was cancelled has its entry reversed);
  - per seller and currency, `seller_payable` is never debited past what was credited (no
    seller transferred more than they are owed);
  - a payout only for a COMPLETE order unless it is REVERSED, of the proceeds its charge entry
    owes the seller; a PAID one has its `transfer:` entry of its amount, and its transfer
    exists at Stripe with that amount and currency;
  - the reconciliation job, judging the whole run once it is quiet, finds no difference
    between the ledger and Stripe's balance transactions;
- payouts and Stripe's transfers (tests/chaos/payout_checks.py), every transfer Stripe made
  (each `transfer.created` event's) judged:
  - each belongs to a payout (its `metadata.payout_id`) that records it, with the payout's
    `transfer_group` (`order_<order id>`), its seller's connected account as destination and its
    charge as `source_transaction`; no payout has two (a sweep stopped between Stripe's answer
    and its record replays the idempotency key `payout_<id>`: the same transfer);
  - the ledger's `transfer:` entries are exactly Stripe's transfers, each of its amount;
  - no payout of a payable seller is left SCHEDULED or WAITING_FOR_ONBOARDING past its due
    time (the run settles only once the sweep has drained them);
  - run.py, with the load's sellers (tests/chaos/sellers.py): a seller who completed the
    onboarding is payable; one who never onboarded is not, and every payout of theirs waits
    for onboarding (or was reversed) with no transfer at Stripe;
- deliveries and mail (tests/chaos/delivery_checks.py `check_delivery`, run.py):
  - every COMPLETE order has a delivery, DELIVERED, or MISSED with its charge refunded in full
    (payments' DELIVERY_MISSED refunds, SUCCEEDED, and Stripe's refunds both the amount
    charged) and its payout not PAID; no delivery DUE past its deadline by more than the
    sweep's slack (5 s); no delivery that owes seats (DUE, DELIVERED, MISSED) of an order not
    COMPLETE; each seller's record (delivered, missed) counts their deliveries; a seller told
    their upload was accepted has the order DELIVERED;
  - every Message-ID maildev received, once (no mail sent twice), each of a mail notifications
    marked SENT; every mail of notifications' outbox SENT (none pending, failed or without an
    address once the system is quiet) and received (none lost); each COMPLETE order's receipt
    (order_confirmed) among them;
  - no code valid for two holders (`check_passes`, a hook until delivery keeps passes: it
    checks nothing while delivery's database has no `passes` collection): per pass at most
    one valid (holder, serial), the latest serial; one pass not VOID per order's seat; none
    for an order not DELIVERED.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from tests.chaos.delivery_checks import missed
from tests.chaos.ledger_checks import check_ledger
from tests.chaos.load import Flow
from tests.chaos.observe import OPEN, Snapshot
from tests.chaos.payout_checks import check_transfers
from tests.chaos.violations import Violation, due

HOLDING = (*OPEN, "COMPLETE")  # an order in one of these holds its seats
EXPIRY_SLACK = timedelta(seconds=2)

__all__ = ["Violation", "check"]


def check(snap: Snapshot, flows: Iterable[Flow]) -> list[Violation]:
    found: list[Violation] = []

    def violation(invariant: str, detail: str, order: dict | None = None) -> None:
        found.append(Violation(invariant, detail, due(order)))

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

    # The seats, as tickets (the one authority on them) holds them: no seat in two holds, and
    # each hold's order exists and has not ended; a sold hold's order is paid.
    holding_orders: dict[str, dict] = {}  # order id -> its hold
    for ticket in snap.tickets.values():
        taken: dict[int, str] = {}
        for hold in ticket.get("holds", []):
            order = orders.get(hold["order_id"])
            holding_orders[hold["order_id"]] = hold
            for seat in hold["seats"]:
                if seat in taken:
                    violation(
                        "seat held twice",
                        f"ticket {ticket['_id']} seat {seat} by {taken[seat]} and "
                        f"{hold['order_id']}",
                        order,
                    )
                taken[seat] = hold["order_id"]
            if order is None or order["status"] not in HOLDING:
                violation(
                    "hold disagrees (tickets)",
                    f"ticket {ticket['_id']} held by {hold['order_id']} "
                    f"({order['status'] if order else 'no such order'})",
                    order,
                )
            elif hold.get("sold") and order["status"] != "COMPLETE":
                violation(
                    "hold disagrees (tickets)",
                    f"ticket {ticket['_id']} sold to {order['_id']}, {order['status']}",
                    order,
                )
    # Every placed order that holds seats (open or paid) has them, sold once paid: its
    # OrderUpdated reached tickets. (A pending order, never placed, may hold or not: the expiry
    # sweep ends it, and "order stuck open" reports one left open.)
    for order in orders.values():
        if order["status"] not in HOLDING or order.get("pending"):
            continue
        hold = holding_orders.get(order["_id"])
        if hold is None or len(hold["seats"]) != order.get("quantity", 1):
            violation(
                "hold disagrees (orders)",
                f"order {order['_id']} ({order['status']}) holds "
                f"{'nothing' if hold is None else hold['seats']} of ticket {order['ticket_id']}",
                order,
            )
        elif order["status"] == "COMPLETE" and not hold.get("sold"):
            violation(
                "event lost",
                f"order {order['_id']} is paid; ticket {order['ticket_id']} never heard",
                order,
            )

    # Payments heard every placed order and its end (one never placed was never payable: no
    # OrderCreated went out for it).
    for order in orders.values():
        if order.get("pending"):
            continue
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
    found.extend(check_ledger(snap))
    found.extend(check_transfers(snap))
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
                    due(order),
                )
            )
        elif recorded.get(intent["id"], {}).get("status") != "succeeded":
            payment = recorded.get(intent["id"])
            found.append(
                Violation(
                    "charge without its record",
                    f"{intent['id']} for order {order_id}: payments has "
                    f"{payment['status'] if payment else 'no payment'} for it",
                    due(order),
                )
            )
    # A COMPLETE order whose delivery was missed keeps none: it was refunded in full.
    for order in orders.values():
        expected = 0 if missed(snap, order["_id"]) else 1
        if order["status"] == "COMPLETE" and len(kept.get(order["_id"], [])) != expected:
            found.append(
                Violation(
                    "complete order without exactly one kept charge"
                    if expected
                    else "missed delivery's charge kept",
                    f"order {order['_id']}: kept charges {kept.get(order['_id'], [])}",
                    due(order),
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
                    due(order),
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
                    due(order),
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
