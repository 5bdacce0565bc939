"""The chaos run's checks of payments' money (tests/chaos/invariants.py lists them): its ledger
(`ledger_entries`) and payouts against each other, against what Stripe (the stand-in) did, and
the reconciliation job's judgement of the whole run."""

from __future__ import annotations

from collections import defaultdict

from tests.chaos.observe import Snapshot
from tests.chaos.violations import Violation, due


def _intent_charge(intent: dict) -> str:
    charge = intent.get("latest_charge")
    return (charge.get("id") if isinstance(charge, dict) else charge) or ""


def _postings_to(entry: dict, account: str) -> int:
    return sum(p["amount"] for p in entry["postings"] if p["account"] == account)


def check_ledger(snap: Snapshot) -> list[Violation]:
    """Payments' ledger and payouts against each other and against Stripe."""
    found: list[Violation] = []
    orders = snap.orders

    def violation(invariant: str, detail: str, order_id: str = "") -> None:
        found.append(Violation(invariant, detail, due(orders.get(order_id))))

    entries_of: dict[str, list[dict]] = defaultdict(list)
    payable: dict[tuple[str, str], int] = defaultdict(int)  # (seller account, currency)
    for entry in snap.ledger_entries:
        entries_of[entry["order_id"]].append(entry)
        amounts = [p["amount"] for p in entry["postings"]]
        if len(amounts) < 2 or 0 in amounts or sum(amounts):
            violation(
                "ledger entry unbalanced",
                f"{entry['_id']} (order {entry['order_id']}): postings {amounts} sum to "
                f"{sum(amounts)}",
                entry["order_id"],
            )
        for posting in entry["postings"]:
            if posting["account"].startswith("seller_payable:"):
                payable[(posting["account"], entry["currency_code"])] += posting["amount"]
    for (account, currency), balance in sorted(payable.items()):
        if balance > 0:  # credits are what is owed: a debit balance is more transferred
            violation(
                "seller paid more than owed",
                f"{account} {currency}: transferred {balance} minor units more than owed",
            )

    # What Stripe kept of each order's money, in its currency's minor units.
    refunded_of: dict[str, int] = defaultdict(int)  # intent or charge id -> refunded
    for refund in snap.refunds:
        if refund.get("status", "succeeded") == "succeeded":
            refunded_of[refund.get("payment_intent") or refund.get("charge") or ""] += refund.get(
                "amount", 0
            )
    at_stripe: dict[str, int] = defaultdict(int)
    for intent in snap.intents:
        if intent.get("status") == "succeeded":
            order_id = (intent.get("metadata") or {}).get("order_id", "")
            refunded = refunded_of.get(intent["id"], 0) + refunded_of.get(_intent_charge(intent), 0)
            at_stripe[order_id] += intent.get("amount", 0) - refunded
    payouts_of = {p["order_id"]: p for p in snap.payouts}
    for payout in snap.payouts:
        transfer = snap.transfers.get(payout.get("transfer_id") or "")
        if transfer is not None:
            at_stripe[payout["order_id"]] -= transfer.get("amount", 0) - transfer.get(
                "amount_reversed", 0
            )
    for order_id in sorted(set(at_stripe) | set(entries_of)):
        in_ledger = sum(_postings_to(e, "stripe_balance") for e in entries_of.get(order_id, []))
        if in_ledger != at_stripe.get(order_id, 0):
            violation(
                "ledger disagrees with Stripe",
                f"order {order_id}: the ledger moved {in_ledger} on stripe_balance, Stripe "
                f"kept {at_stripe.get(order_id, 0)} "
                f"(entries {sorted(e['_id'] for e in entries_of.get(order_id, []))})",
                order_id,
            )

    # Each COMPLETE order's kept charge, once in the ledger, at the amount charged.
    refunded_ids = {i for i, amount in refunded_of.items() if amount}
    for intent in snap.intents:
        order_id = (intent.get("metadata") or {}).get("order_id", "")
        order = orders.get(order_id)
        charge_id = _intent_charge(intent)
        if (
            intent.get("status") != "succeeded"
            or order is None
            or order["status"] != "COMPLETE"
            or {intent["id"], charge_id} & refunded_ids
        ):
            continue
        charges = [e for e in entries_of.get(order_id, []) if e["kind"] == "charge"]
        if len(charges) != 1 or charges[0]["source"] not in (charge_id, intent["id"]):
            violation(
                "kept charge not in the ledger",
                f"{intent['id']} ({charge_id}) of order {order_id}: charge entries "
                f"{sorted(e['_id'] for e in charges)}",
                order_id,
            )
        elif (booked := _postings_to(charges[0], "stripe_balance")) != intent.get("amount"):
            violation(
                "kept charge not in the ledger",
                f"{charges[0]['_id']} of order {order_id}: {booked} on stripe_balance, Stripe "
                f"charged {intent.get('amount')}",
                order_id,
            )

    # Payouts: for a COMPLETE order (or reversed), of the proceeds owed; paid ones transferred.
    for order_id, payout in sorted(payouts_of.items()):
        order = orders.get(order_id)
        if payout["status"] != "REVERSED" and (order is None or order["status"] != "COMPLETE"):
            violation(
                "payout disagrees",
                f"payout {payout['_id']} is {payout['status']} for order {order_id} "
                f"({order['status'] if order else 'no such order'})",
                order_id,
            )
        owed = -sum(
            _postings_to(e, f"seller_payable:{payout['seller_id']}")
            for e in entries_of.get(order_id, [])
            if e["kind"] == "charge"
        )
        if payout["amount_minor"] != owed:
            violation(
                "payout disagrees",
                f"payout {payout['_id']} of order {order_id} pays {payout['amount_minor']}, its "
                f"charge entry owes the seller {owed}",
                order_id,
            )
        if payout["status"] != "PAID":
            continue
        amount = payout["amount_minor"] - payout.get("reversed_minor", 0)
        transfer_id = payout.get("transfer_id") or ""
        entry = next(
            (e for e in entries_of.get(order_id, []) if e["_id"] == f"transfer:{transfer_id}"),
            None,
        )
        transfer = snap.transfers.get(transfer_id)
        if entry is None or -_postings_to(entry, "stripe_balance") != amount:
            violation(
                "paid payout without its transfer",
                f"payout {payout['_id']} ({amount} {payout['currency_code']}): entry "
                f"transfer:{transfer_id} "
                f"{'missing' if entry is None else _postings_to(entry, 'stripe_balance')}",
                order_id,
            )
        elif (
            transfer is None
            or transfer.get("amount") != amount
            or str(transfer.get("currency", "")).upper() != payout["currency_code"]
        ):
            at = "missing" if transfer is None else f"{transfer['amount']} {transfer['currency']}"
            violation(
                "paid payout without its transfer",
                f"payout {payout['_id']} ({amount} {payout['currency_code']}): Stripe's "
                f"transfer {transfer_id or '(none)'} {at}",
                order_id,
            )

    for difference in snap.ledger_differences:
        violation(
            "reconciliation difference",
            f"{difference.kind.value} {difference.entry_id}: Stripe {difference.stripe_amount} "
            f"{difference.stripe_currency} {list(difference.transaction_ids)}, ledger "
            f"{difference.ledger_amount} {difference.ledger_currency}",
            difference.order_id,
        )
    return found
