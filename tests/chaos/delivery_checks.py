"""The chaos run's checks of deliveries, mail and passes (issue 22; tests/chaos/invariants.py
lists them): every paid order ends delivered, or missed and refunded in full with its seller
paid nothing; no mail is sent twice or lost, and every paid order's receipt went out; no code is
valid for two holders (`check_passes`: a hook until the delivery service keeps passes)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import timedelta

from svc_delivery.domain.methods import DeliveryStatus
from tests.chaos.delivering import DELIVERED
from tests.chaos.load import Flow
from tests.chaos.observe import Snapshot
from tests.chaos.violations import Violation, due

# A DUE delivery is MISSED by the sweep within about DELIVERY_SWEEP_SECONDS of its deadline; a
# sweep cut off by a kill runs again once the service is back. The run's sweep is 1 s.
SWEEP_SLACK = timedelta(seconds=5)
HAS_SEATS = (DeliveryStatus.DUE, DeliveryStatus.DELIVERED, DeliveryStatus.MISSED)
MISSED_ORIGIN = "DELIVERY_MISSED"
RECEIPT = "order_confirmed"


def _status(delivery: dict) -> DeliveryStatus:
    return DeliveryStatus(delivery["status"])


def check_delivery(snap: Snapshot, flows: Iterable[Flow]) -> list[Violation]:
    """Every check of this module."""
    return [
        *check_deliveries(snap),
        *check_delivered_flows(snap, flows),
        *check_mail(snap),
        *check_passes(snap),
    ]


def missed(snap: Snapshot, order_id: str) -> bool:
    """The order's delivery was missed: it is refunded in full, and keeps no charge."""
    delivery = snap.deliveries.get(order_id)
    return delivery is not None and _status(delivery) is DeliveryStatus.MISSED


def check_delivered_flows(snap: Snapshot, flows: Iterable[Flow]) -> list[Violation]:
    """A seller whose upload was accepted (tests/chaos/delivering.py) sees the order delivered."""
    found: list[Violation] = []
    for flow in flows:
        if flow.delivery != DELIVERED or flow.order_id is None:
            continue
        delivery = snap.deliveries.get(flow.order_id)
        if delivery is None or _status(delivery) is not DeliveryStatus.DELIVERED:
            state = _status(delivery).name if delivery else "no delivery"
            found.append(
                Violation(
                    "seller told otherwise",
                    f"order {flow.order_id}: the seller's upload was accepted, it is {state}",
                    due(snap.orders.get(flow.order_id)),
                )
            )
    return found


def _charged(snap: Snapshot) -> dict[str, list[dict]]:
    """order id -> its succeeded PaymentIntents at Stripe."""
    charged: dict[str, list[dict]] = defaultdict(list)
    for intent in snap.intents:
        if intent.get("status") == "succeeded":
            charged[(intent.get("metadata") or {}).get("order_id", "")].append(intent)
    return charged


def _refunded_at_stripe(snap: Snapshot) -> Counter[str]:
    """PaymentIntent id -> the amount Stripe refunded of it."""
    refunded: Counter[str] = Counter()
    for refund in snap.refunds:
        if refund.get("status", "succeeded") == "succeeded" and refund.get("payment_intent"):
            refunded[refund["payment_intent"]] += refund.get("amount", 0)
    return refunded


def check_deliveries(snap: Snapshot) -> list[Violation]:
    """Every COMPLETE order's delivery DELIVERED (or DUE, not yet past its deadline), or MISSED
    with its charge refunded in full (in
    payments' refunds and at Stripe) and its payout not PAID; no delivery DUE past its deadline
    by more than the sweep's slack; no order not COMPLETE with a delivery that owes seats; each
    seller's record counts what their deliveries say."""
    found: list[Violation] = []

    def violation(invariant: str, detail: str, order_id: str) -> None:
        found.append(Violation(invariant, detail, due(snap.orders.get(order_id))))

    charged, at_stripe = _charged(snap), _refunded_at_stripe(snap)
    refunded_in_payments: Counter[str] = Counter()
    for refund in snap.payment_refunds:
        if refund["origin"] == MISSED_ORIGIN and refund["state"] == "SUCCEEDED":
            refunded_in_payments[refund["order_id"]] += refund["amount_minor"]
    payouts = {p["order_id"]: p for p in snap.payouts}

    for order in snap.orders.values():
        if order["status"] != "COMPLETE":
            continue
        order_id = order["_id"]
        delivery = snap.deliveries.get(order_id)
        if delivery is None:
            violation("paid order without its delivery", f"order {order_id}", order_id)
            continue
        status = _status(delivery)
        if status in (DeliveryStatus.DELIVERED, DeliveryStatus.DUE):
            continue  # a DUE one is judged by its deadline below
        if status is not DeliveryStatus.MISSED:
            violation(
                "paid order neither delivered nor missed",
                f"order {order_id}: delivery {status.name}, deliver by {delivery['deliver_by']}",
                order_id,
            )
            continue
        paid = sum(i.get("amount", 0) for i in charged.get(order_id, []))
        back = sum(at_stripe[i["id"]] for i in charged.get(order_id, []))
        if not paid or back != paid or refunded_in_payments[order_id] != paid:
            violation(
                "missed delivery not refunded in full",
                f"order {order_id}: charged {paid}, Stripe refunded {back}, payments recorded "
                f"{refunded_in_payments[order_id]} refunded for the missed delivery",
                order_id,
            )
        payout = payouts.get(order_id)
        if payout is not None and payout["status"] == "PAID":
            violation(
                "missed delivery's seller paid",
                f"order {order_id}: payout {payout['_id']} PAID "
                f"(transfer {payout.get('transfer_id') or 'none'})",
                order_id,
            )

    for delivery in snap.deliveries.values():
        order_id, status = delivery["_id"], _status(delivery)
        if status is DeliveryStatus.DUE and delivery["deliver_by"] + SWEEP_SLACK < snap.taken_at:
            late = (snap.taken_at - delivery["deliver_by"]).total_seconds()
            violation("delivery overdue", f"order {order_id}: DUE, {late:.0f}s past", order_id)
        order = snap.orders.get(order_id)
        if status in HAS_SEATS and (order is None or order["status"] != "COMPLETE"):
            state = order["status"] if order else "no such order"
            violation(
                "delivery of an unpaid order",
                f"order {order_id} ({state}): delivery {status.name}",
                order_id,
            )

    counted: dict[str, Counter[str]] = defaultdict(Counter)
    for delivery in snap.deliveries.values():
        status = _status(delivery)
        if status in (DeliveryStatus.DELIVERED, DeliveryStatus.MISSED):
            counted[delivery["seller_id"]][status.name.lower()] += 1
    for seller in sorted(set(counted) | set(snap.seller_records)):
        record = snap.seller_records.get(seller) or {}
        says = {k: record.get(k, 0) for k in ("delivered", "missed")}
        truth = {k: counted[seller][k] for k in ("delivered", "missed")}
        if says != truth:
            found.append(
                Violation(
                    "seller record disagrees with deliveries",
                    f"seller {seller}: the record says {says}, the deliveries {truth}",
                )
            )
    return found


def message_id(mail: dict) -> str:
    """A maildev mail's Message-ID header."""
    return (mail.get("headers") or {}).get("message-id") or mail.get("messageId") or ""


def outbox_id(header: str) -> str:
    """The notifications outbox id a Message-ID names (`<id@domain>`, svc_notifications)."""
    return header.strip("<>").partition("@")[0]


def check_mail(snap: Snapshot) -> list[Violation]:
    """What notifications marked against what the mail server got: no Message-ID twice (a mail
    sent twice), none received and not marked SENT (it would be sent again), every mail SENT
    received (none lost), every mail given an end (none pending, failed or addressless once the
    system is quiet), and each COMPLETE order's receipt sent."""
    found: list[Violation] = []
    received = Counter(message_id(m) for m in snap.mailbox)
    for header, times in sorted(received.items()):
        if times > 1:
            found.append(Violation("mail sent twice", f"{header}: {times} times"))
    in_box = {outbox_id(h) for h in received}
    outbox = {m["_id"]: m for m in snap.mails}
    for mail_id in sorted(in_box):
        mail = outbox.get(mail_id)
        if mail is None or mail["status"] != "sent":
            state = mail["status"] if mail else "no such mail"
            found.append(Violation("mail received but not marked sent", f"{mail_id} ({state})"))
    for mail in snap.mails:
        what = f"{mail['kind']} {mail['_id']} to {mail['recipient_id']} (order {mail['order_id']})"
        if mail["status"] != "sent":
            found.append(
                Violation(
                    "mail not sent",
                    f"{what}: {mail['status']} after {mail['attempts']} attempts",
                    due(snap.orders.get(mail["order_id"])),
                )
            )
        elif mail["_id"] not in in_box:
            found.append(Violation("sent mail lost", what, due(snap.orders.get(mail["order_id"]))))
    receipts = {m["order_id"] for m in snap.mails if m["kind"] == RECEIPT}
    for order in snap.orders.values():
        if order["status"] == "COMPLETE" and order["_id"] not in receipts:
            found.append(
                Violation(
                    "paid order without its receipt mail", f"order {order['_id']}", due(order)
                )
            )
    return found


def valid_codes(issued: Iterable[tuple[str, int]], current: dict) -> set[tuple[str, int]]:
    """The (holder, serial) pairs of one pass a door accepts: of every pair it was issued to,
    those at or above its `valid_from` (its serial; past it once VOID, svc_delivery's
    passes.py), as it stands in `current` (its stored document)."""
    valid_from = current["serial"] + (1 if current["state"] == "VOID" else 0)
    pairs = set(issued) | {(current["holder_id"], current["serial"])}
    return {(holder, serial) for holder, serial in pairs if serial >= valid_from}


def check_passes(snap: Snapshot) -> list[Violation]:
    """No code valid for two holders. A hook: None in `snap.passes` (the delivery database has
    no `passes` collection yet) checks nothing. Otherwise, per pass, at most one valid (holder,
    serial), the latest serial issued; per order's seat, one pass not VOID; a pass only for a
    DELIVERED order. `snap.pass_issues`: (pass id, holder, serial) of every issue heard of
    (pass.issued and pass.reissued), so a serial handed on is proven revoked."""
    if snap.passes is None:
        return []  # TODO(issue 22): passes land with the delivery service's passes
    found: list[Violation] = []
    issued: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for pass_id, holder, serial in snap.pass_issues:
        issued[pass_id].add((holder, serial))
    seats: dict[tuple[str, int], list[str]] = defaultdict(list)
    for doc in snap.passes:
        valid = valid_codes(issued[doc["_id"]], doc)
        latest = max([s for _, s in issued[doc["_id"]]] + [doc["serial"]])
        if len(valid) > 1 or any(serial != latest for _, serial in valid):
            found.append(
                Violation(
                    "code valid for two holders",
                    f"pass {doc['_id']} (order {doc['order_id']} seat {doc['seat']}): valid "
                    f"{sorted(valid)}, latest serial {latest}",
                )
            )
        if doc["state"] != "VOID":
            seats[(doc["order_id"], doc["seat"])].append(doc["_id"])
        delivery = snap.deliveries.get(doc["order_id"])
        if doc["state"] != "VOID" and (
            delivery is None or _status(delivery) is not DeliveryStatus.DELIVERED
        ):
            state = _status(delivery).name if delivery else "no delivery"
            found.append(Violation("pass of an undelivered order", f"pass {doc['_id']}: {state}"))
    for (order_id, seat), ids in sorted(seats.items()):
        if len(ids) > 1:
            found.append(
                Violation("seat with two passes", f"order {order_id} seat {seat}: {sorted(ids)}")
            )
    return found
