"""The chaos run's checks of payouts against Stripe's transfers (tests/chaos/invariants.py lists
them): every transfer Stripe made belongs to one payout, which records it, and none was made
twice (a sweep stopped between Stripe's answer and its record asks again with the same
idempotency key, `payout_<id>`, and gets the same transfer); the ledger's transfer entries are
Stripe's transfers; every payout due to a payable seller was paid; a seller who never onboarded
was paid nothing. `money_coverage` says what of this the run exercised."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from tests.chaos.observe import Snapshot
from tests.chaos.violations import Violation, due

WAITING = "WAITING_FOR_ONBOARDING"
UNPAID = ("SCHEDULED", WAITING)


def _stripe_balance(entry: dict) -> int:
    return sum(p["amount"] for p in entry["postings"] if p["account"] == "stripe_balance")


def check_transfers(snap: Snapshot) -> list[Violation]:
    """Stripe's transfers against payments' payouts, ledger and seller accounts."""
    found: list[Violation] = []

    def violation(invariant: str, detail: str, order_id: str = "") -> None:
        found.append(Violation(invariant, detail, due(snap.orders.get(order_id))))

    payouts = {p["_id"]: p for p in snap.payouts}
    of_payout: dict[str, list[dict]] = defaultdict(list)
    for transfer in sorted(snap.transfers.values(), key=lambda t: t["id"]):
        payout = payouts.get((transfer.get("metadata") or {}).get("payout_id", ""))
        if payout is None:
            violation(
                "transfer without its payout",
                f"{transfer['id']} ({transfer['amount']} {transfer['currency']} to "
                f"{transfer.get('destination')}, metadata {transfer.get('metadata')}): no payout",
            )
            continue
        of_payout[payout["_id"]].append(transfer)
        order_id = payout["order_id"]
        account = snap.seller_accounts.get(payout["seller_id"]) or {}
        charge = payout.get("charge_id") or ""
        expected = {
            "transfer_group": f"order_{order_id}",
            "destination": account.get("stripe_account_id"),
            "source_transaction": charge if charge.startswith("ch_") else None,
        }
        wrong = {k: transfer.get(k) for k, v in expected.items() if transfer.get(k) != v}
        if wrong:
            violation(
                "transfer disagrees with its payout",
                f"{transfer['id']} of payout {payout['_id']}: {wrong}, expected "
                f"{ {k: expected[k] for k in wrong} }",
                order_id,
            )
    for payout_id, transfers in sorted(of_payout.items()):
        payout = payouts[payout_id]
        ids = [t["id"] for t in transfers]
        if len(transfers) > 1:
            violation(
                "payout transferred twice",
                f"payout {payout_id} ({payout['status']}, records "
                f"{payout.get('transfer_id') or 'none'}): transfers {ids}",
                payout["order_id"],
            )
        elif payout.get("transfer_id") != ids[0]:
            violation(
                "transfer not recorded",
                f"payout {payout_id} is {payout['status']} with transfer "
                f"{payout.get('transfer_id') or 'none'}; Stripe made {ids[0]} for it",
                payout["order_id"],
            )

    # The ledger's transfer entries: one per transfer Stripe made, of its amount.
    entries = {e["source"]: e for e in snap.ledger_entries if e["kind"] == "transfer"}
    for transfer_id in sorted(set(entries) | set(snap.transfers)):
        entry, transfer = entries.get(transfer_id), snap.transfers.get(transfer_id)
        booked = None if entry is None else -_stripe_balance(entry)
        made = None if transfer is None else transfer["amount"]
        if booked != made:
            violation(
                "ledger transfer disagrees with Stripe",
                f"{transfer_id}: the ledger booked {booked if entry else 'nothing'}, Stripe "
                f"transferred {made if transfer else 'nothing'}",
                entry["order_id"] if entry else "",
            )

    # Due and payable (the sweep has had time to drain: the run settles on it): paid.
    for payout in snap.payouts:
        account = snap.seller_accounts.get(payout["seller_id"]) or {}
        due_at = payout.get("due_at")
        if (
            payout["status"] in UNPAID
            and account.get("payouts_enabled")
            and due_at is not None
            and due_at <= snap.taken_at
        ):
            violation(
                "payable payout not paid",
                f"payout {payout['_id']} of seller {payout['seller_id']} (payable) is "
                f"{payout['status']}, due {(snap.taken_at - due_at).total_seconds():.0f}s ago",
                payout["order_id"],
            )
    return found


def check_sellers(
    snap: Snapshot, onboarded: Iterable[str], never: Iterable[str]
) -> list[Violation]:
    """The harness's sellers as payments holds them: one who completed onboarding is payable
    (the webhook reached payments); one who never onboarded is not, and was paid nothing: each
    payout of theirs waits for onboarding (or was reversed), with no transfer."""
    found: list[Violation] = []
    for seller in sorted(onboarded):
        account = snap.seller_accounts.get(seller)
        if account is None or not account.get("payouts_enabled"):
            state = "no account" if account is None else "payouts not enabled"
            found.append(
                Violation("onboarding lost", f"seller {seller} completed onboarding: {state}")
            )
    never = set(never)
    for seller in sorted(never):
        if (snap.seller_accounts.get(seller) or {}).get("payouts_enabled"):
            found.append(Violation("seller never onboarded is payable", f"seller {seller}"))
    for payout in snap.payouts:
        if payout["seller_id"] in never and (
            payout.get("transfer_id") or payout["status"] not in (WAITING, "REVERSED")
        ):
            found.append(
                Violation(
                    "seller never onboarded was paid",
                    f"payout {payout['_id']} of {payout['seller_id']} is {payout['status']} "
                    f"(transfer {payout.get('transfer_id') or 'none'})",
                    due(snap.orders.get(payout["order_id"])),
                )
            )
    for transfer in snap.transfers.values():
        seller = (transfer.get("metadata") or {}).get("seller_id")
        if seller in never:
            found.append(
                Violation("seller never onboarded was paid", f"{transfer['id']} to seller {seller}")
            )
    return found


def money_coverage(
    snap: Snapshot, completed: Mapping[str, float], mid_run: Iterable[str], never: Iterable[str]
) -> dict[str, int]:
    """What the run's payouts went through: `paid` (transferred), `waiting` (of sellers who
    never onboarded), `released` (a mid-run seller's, scheduled before their onboarding was
    completed, waiting, then paid)."""
    mid_run, never = set(mid_run), set(never)
    released = 0
    for payout in snap.payouts:
        onboarded_at = completed.get(payout["seller_id"])
        if (
            payout["seller_id"] in mid_run
            and payout["status"] == "PAID"
            and onboarded_at is not None
            and payout["created_at"].timestamp() < onboarded_at
        ):
            released += 1
    return {
        "paid": sum(p["status"] == "PAID" for p in snap.payouts),
        "waiting": sum(p["status"] == WAITING and p["seller_id"] in never for p in snap.payouts),
        "released": released,
        "transfers": len(snap.transfers),
    }
