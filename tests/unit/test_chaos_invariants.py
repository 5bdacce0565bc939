"""The chaos run's invariant checks catch what they name: each broken state, built by hand the
way the services store it, gives its violation; a consistent state gives none."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from svc_payments.domain.reconciliation import Difference, DifferenceKind
from tests.chaos.invariants import check
from tests.chaos.load import Flow, Plan
from tests.chaos.observe import Snapshot
from tests.chaos.payout_checks import check_sellers, money_coverage

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def order(id: str, ticket: str, status: str, due_in: float = -30) -> dict:
    return {
        "_id": id,
        "ticket_id": ticket,
        "status": status,
        "expires_at": NOW + timedelta(seconds=due_in),
        "created_at": NOW + timedelta(seconds=due_in - 6),
    }


def hold(order_id: str, seats=(0,), sold: bool = False) -> dict:
    return {"order_id": order_id, "seats": list(seats), "price": "20.00", "sold": sold}


def intent(id: str, status: str, order_id: str, amount: int = 2200) -> dict:
    charge = id.replace("pi_", "ch_")
    metadata = {"order_id": order_id}
    return {
        "id": id,
        "status": status,
        "amount": amount,
        "latest_charge": charge,
        "metadata": metadata,
    }


def entry(kind: str, source: str, order_id: str, *postings: tuple[str, int]) -> dict:
    """A ledger entry as payments stores it (svc_payments/adapters/ledger_store.py)."""
    return {
        "_id": f"{kind}:{source}",
        "kind": kind,
        "source": source,
        "order_id": order_id,
        "currency_code": "USD",
        "postings": [{"account": a, "amount": n} for a, n in postings],
        "created_at": NOW,
        "memo": "",
    }


# o1's charge of 22.00: the seller s1 is owed 18.00, the platform keeps 4.00 of fees.
CHARGE_1 = (("stripe_balance", 2200), ("seller_payable:s1", -1800), ("platform_fees", -400))


def payout(
    order_id: str, status: str, amount: int = 1800, transfer_id: str = "", due_in: float = -60
) -> dict:
    return {
        "_id": f"po-{order_id}",
        "order_id": order_id,
        "seller_id": "s1",
        "amount_minor": amount,
        "reversed_minor": 0,
        "currency_code": "USD",
        "charge_id": f"ch_{order_id[1:]}",
        "status": status,
        "transfer_id": transfer_id,
        "created_at": NOW - timedelta(seconds=120),
        "due_at": NOW + timedelta(seconds=due_in),
    }


def transfer(id: str, order_id: str, amount: int = 1800) -> dict:
    """A transfer as Stripe holds it, made by payments' sweep for `order_id`'s payout to s1."""
    return {
        "id": id,
        "amount": amount,
        "currency": "usd",
        "destination": "acct_s1",
        "transfer_group": f"order_{order_id}",
        "source_transaction": f"ch_{order_id[1:]}",
        "metadata": {"payout_id": f"po-{order_id}", "order_id": order_id, "seller_id": "s1"},
    }


def consistent() -> Snapshot:
    """t1 sold to o1 (paid, charge kept), t2 released by o2 (expired), t3 held by o3 (not yet
    due); o4 paid late for t4 after it expired and was refunded. The seats as tickets holds
    them: one hold per order, sold once paid. o1's charge is in the ledger and its payout
    scheduled (due in a minute); o8, paid then cancelled, had its charge refunded, its entry
    reversed and its payout reversed; o9's payout was transferred (tr_9) to s1, payable."""
    orders = [
        order("o1", "t1", "COMPLETE"),
        order("o2", "t2", "CANCELLED"),
        order("o3", "t3", "CREATED", due_in=5),
        order("o4", "t4", "CANCELLED"),
        order("o8", "t8", "CANCELLED"),
        order("o9", "t9", "COMPLETE"),
    ]
    holds = {
        "t1": [hold("o1", sold=True)],
        "t2": [],
        "t3": [hold("o3")],
        "t4": [],
        "t8": [],
        "t9": [hold("o9", sold=True)],
    }
    reversed_8 = tuple((a, -n) for a, n in CHARGE_1)
    return Snapshot(
        orders={o["_id"]: o for o in orders},
        tickets={t: {"_id": t, "holds": h} for t, h in holds.items()},
        payment_orders={o["_id"]: {"_id": o["_id"], "status": o["status"]} for o in orders},
        payments=[
            {"_id": "p1", "order_id": "o1", "stripe_id": "pi_1", "status": "succeeded"},
            {"_id": "p4", "order_id": "o4", "stripe_id": "pi_4", "status": "refunded"},
            {"_id": "p8", "order_id": "o8", "stripe_id": "pi_8", "status": "refunded"},
            {"_id": "p9", "order_id": "o9", "stripe_id": "pi_9", "status": "succeeded"},
        ],
        unsent={"orders": 0, "tickets": 0},
        intents=[
            intent("pi_1", "succeeded", "o1"),
            intent("pi_4", "succeeded", "o4"),
            intent("pi_2", "requires_payment_method", "o2"),
            intent("pi_8", "succeeded", "o8"),
            intent("pi_9", "succeeded", "o9"),
        ],
        refunds=[
            {"id": "re_4", "charge": "ch_4", "payment_intent": "pi_4", "amount": 2200},
            {"id": "re_8", "charge": "ch_8", "payment_intent": "pi_8", "amount": 2200},
        ],
        queued={},
        dead={"orders": [], "payments": []},
        taken_at=NOW,
        ledger_entries=[
            entry("charge", "ch_1", "o1", *CHARGE_1),
            entry("charge", "ch_8", "o8", *CHARGE_1),
            entry("refund", "re_8", "o8", *reversed_8),
            entry("charge", "ch_9", "o9", *CHARGE_1),
            entry("transfer", "tr_9", "o9", ("seller_payable:s1", 1800), ("stripe_balance", -1800)),
        ],
        payouts=[
            payout("o1", "SCHEDULED", due_in=60),
            payout("o8", "REVERSED"),
            payout("o9", "PAID", transfer_id="tr_9"),
        ],
        transfers={"tr_9": transfer("tr_9", "o9")},
        seller_accounts={
            "s1": {"_id": "s1", "stripe_account_id": "acct_s1", "payouts_enabled": True}
        },
    )


def flows() -> list[Flow]:
    told = [("t1", "o1", Plan.PAY, "paid"), ("t2", "o2", Plan.LEAVE, "left")]
    told.append(("t4", "o4", Plan.PAY, "paid"))  # refunded: allowed
    told.append(("t9", "o9", Plan.PAY, "paid"))
    return [Flow(plan, 0, ticket_id=t, order_id=o, answer=a) for t, o, plan, a in told]


def test_a_consistent_state_has_no_violation():
    assert check(consistent(), flows()) == []


def broken(change) -> list[str]:
    snap = copy.deepcopy(consistent())
    change(snap)
    return sorted({v.invariant for v in check(snap, flows())})


def _stuck(s):
    s.orders["o3"]["expires_at"] = NOW - timedelta(seconds=3)


def _sold_twice(s):
    s.orders["o5"] = order("o5", "t1", "COMPLETE")
    s.payment_orders["o5"] = {"_id": "o5", "status": "COMPLETE"}


def _ticket_not_released(s):
    s.tickets["t2"]["holds"].append(hold("o2"))


def _seat_held_twice(s):
    s.orders["o6"] = order("o6", "t3", "CREATED", due_in=5)
    s.payment_orders["o6"] = {"_id": "o6", "status": "CREATED"}
    s.tickets["t3"]["holds"].append(hold("o6"))


def _swept_before_placed_is_no_violation(s):
    """An order ended before it got its seats (never placed): payments never heard of it, and
    tickets holds nothing for it. Nothing is wrong."""
    s.orders["o7"] = {**order("o7", "t2", "CANCELLED"), "pending": True}


def _placed_order_holds_nothing(s):
    s.tickets["t3"]["holds"].clear()


def _cancel_lost_at_payments(s):
    s.payment_orders["o2"]["status"] = "CREATED"


def _sale_lost_at_tickets(s):
    s.tickets["t1"]["holds"][0]["sold"] = False


def _outbox_stuck(s):
    s.unsent["orders"] = 2


def _charge_kept_for_cancelled(s):
    s.refunds.clear()


def _charge_unrecorded(s):
    s.payments.pop(0)


def _dead_letter(s):
    s.dead["payments"].append(
        {"type": "OrderCancelled", "event_id": "e1", "error": "boom", "timestamp": 0}
    )


def _expired_order_completed(s):
    s.orders["o2"]["status"] = "COMPLETE"
    s.payment_orders["o2"]["status"] = "COMPLETE"
    s.tickets["t2"]["holds"].append(hold("o2", sold=True))


def _entry_unbalanced(s):
    s.ledger_entries[0]["postings"][2]["amount"] = -300  # the fees short by 1.00


def _entry_of_one_posting(s):
    s.ledger_entries.append(entry("charge", "ch_x", "o3", ("stripe_balance", 0)))


def _charge_not_in_ledger(s):
    del s.ledger_entries[0]


def _charge_booked_twice(s):
    s.ledger_entries.append(entry("charge", "pi_1", "o1", *CHARGE_1))


def _charge_booked_short(s):
    s.intents[0]["amount"] = 2500  # Stripe charged 25.00; the entry says 22.00


def _refund_not_in_ledger(s):
    del s.ledger_entries[2]  # o8's charge refunded at Stripe, its entry never reversed


def _late_charge_refunded_unbooked_is_no_violation(s):
    """o4's charge, refunded as it came late, was never the order's payment: nothing in the
    ledger, nothing kept at Stripe (the reconciliation judges the pair of movements)."""


def _seller_overpaid(s):
    s.ledger_entries.append(
        entry("transfer", "tr_x", "o1", ("seller_payable:s1", 4000), ("stripe_balance", -4000))
    )
    s.transfers["tr_x"] = transfer("tr_x", "o1", 4000)
    s.payouts[0].update(status="PAID", transfer_id="tr_x")


def _payout_of_cancelled_order(s):
    s.payouts[1].update(status="SCHEDULED", due_at=NOW + timedelta(seconds=60))


def _payout_of_other_amount(s):
    s.payouts[0]["amount_minor"] = 2000


def _paid_payout_without_entry(s):
    del s.ledger_entries[4]


def _paid_payout_without_transfer(s):
    s.transfers.clear()


def _transfer_of_other_amount(s):
    s.transfers["tr_9"]["amount"] = 1700


def _transfer_made_twice(s):
    """The sweep stopped after Stripe's answer and asked again with another key."""
    s.transfers["tr_9b"] = transfer("tr_9b", "o9")


def _transfer_of_no_payout(s):
    s.transfers["tr_z"] = {**transfer("tr_z", "o9"), "metadata": {}}


def _transfer_unrecorded(s):
    """Stripe made o1's transfer; payments never recorded it (nor asked again)."""
    s.transfers["tr_1"] = transfer("tr_1", "o1")


def _transfer_to_another_group(s):
    s.transfers["tr_9"]["transfer_group"] = "order_o1"


def _transfer_to_another_account(s):
    s.transfers["tr_9"]["destination"] = "acct_other"


def _due_payout_never_swept(s):
    s.payouts[0]["due_at"] = NOW - timedelta(seconds=5)


def _payable_sellers_payout_left_waiting(s):
    """s1 is payable: their onboarding should have released it."""
    s.payouts[0].update(status="WAITING_FOR_ONBOARDING", due_at=NOW - timedelta(seconds=5))


def _unpayable_sellers_payout_waiting_is_no_violation(s):
    s.seller_accounts["s1"]["payouts_enabled"] = False
    s.payouts[0].update(status="WAITING_FOR_ONBOARDING", due_at=NOW - timedelta(seconds=5))


def _reconciliation_difference(s):
    s.ledger_differences.append(
        Difference(
            DifferenceKind.MISSING_IN_LEDGER,
            "refund:re_4",
            "re_4",
            transaction_ids=("txn_4",),
            stripe_amount=-2200,
            stripe_currency="USD",
        )
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_stuck, ["order stuck open"]),
        (
            _sold_twice,
            ["complete order without exactly one kept charge", "hold disagrees (orders)"],
        ),
        (_ticket_not_released, ["hold disagrees (tickets)"]),
        (_seat_held_twice, ["seat held twice"]),
        (_swept_before_placed_is_no_violation, []),
        (_placed_order_holds_nothing, ["hold disagrees (orders)"]),
        (_cancel_lost_at_payments, ["event lost"]),
        (_sale_lost_at_tickets, ["event lost"]),
        (_outbox_stuck, ["event lost"]),
        (
            _charge_kept_for_cancelled,
            ["charge kept for an order not COMPLETE", "ledger disagrees with Stripe"],
        ),
        (_charge_unrecorded, ["charge without its record"]),
        (_dead_letter, ["dead letter"]),
        (_entry_unbalanced, ["ledger entry unbalanced"]),
        (
            _entry_of_one_posting,
            ["ledger entry unbalanced"],
        ),
        (
            _charge_not_in_ledger,
            ["kept charge not in the ledger", "ledger disagrees with Stripe", "payout disagrees"],
        ),
        (
            _charge_booked_twice,
            ["kept charge not in the ledger", "ledger disagrees with Stripe", "payout disagrees"],
        ),
        (_charge_booked_short, ["kept charge not in the ledger", "ledger disagrees with Stripe"]),
        (_refund_not_in_ledger, ["ledger disagrees with Stripe"]),
        (_late_charge_refunded_unbooked_is_no_violation, []),
        (_seller_overpaid, ["paid payout without its transfer", "seller paid more than owed"]),
        (_payout_of_cancelled_order, ["payout disagrees"]),
        (_payout_of_other_amount, ["payout disagrees"]),
        (
            _paid_payout_without_entry,
            [
                "ledger disagrees with Stripe",
                "ledger transfer disagrees with Stripe",
                "paid payout without its transfer",
            ],
        ),
        (
            _paid_payout_without_transfer,
            [
                "ledger disagrees with Stripe",
                "ledger transfer disagrees with Stripe",
                "paid payout without its transfer",
            ],
        ),
        (
            _transfer_of_other_amount,
            [
                "ledger disagrees with Stripe",
                "ledger transfer disagrees with Stripe",
                "paid payout without its transfer",
            ],
        ),
        (
            _transfer_made_twice,
            ["ledger transfer disagrees with Stripe", "payout transferred twice"],
        ),
        (
            _transfer_of_no_payout,
            ["ledger transfer disagrees with Stripe", "transfer without its payout"],
        ),
        (_transfer_unrecorded, ["ledger transfer disagrees with Stripe", "transfer not recorded"]),
        (_transfer_to_another_group, ["transfer disagrees with its payout"]),
        (_transfer_to_another_account, ["transfer disagrees with its payout"]),
        (_due_payout_never_swept, ["payable payout not paid"]),
        (_payable_sellers_payout_left_waiting, ["payable payout not paid"]),
        (_unpayable_sellers_payout_waiting_is_no_violation, []),
        (_reconciliation_difference, ["reconciliation difference"]),
        (
            _expired_order_completed,
            ["buyer told otherwise", "complete order without exactly one kept charge"],
        ),
    ],
)
def test_each_broken_state_is_named(change, expected):
    assert broken(change) == expected


def sellers_state() -> Snapshot:
    """The consistent state, with s2, who never onboarded: their o1 payout waits for it."""
    snap = consistent()
    snap.payouts[0].update(seller_id="s2", status="WAITING_FOR_ONBOARDING")
    snap.ledger_entries[0]["postings"][1]["account"] = "seller_payable:s2"
    return snap


def seller_violations(snap: Snapshot) -> list[str]:
    return sorted({v.invariant for v in check_sellers(snap, ["s1"], ["s2"])})


def test_sellers_as_they_onboarded_have_no_violation():
    assert check(sellers_state(), flows()) == []
    assert seller_violations(sellers_state()) == []


def test_a_completed_onboarding_that_never_made_the_seller_payable_is_named():
    snap = sellers_state()
    snap.seller_accounts["s1"]["payouts_enabled"] = False
    assert seller_violations(snap) == ["onboarding lost"]
    del snap.seller_accounts["s1"]
    assert seller_violations(snap) == ["onboarding lost"]


def test_a_seller_who_never_onboarded_and_was_paid_is_named():
    snap = sellers_state()
    snap.payouts[0].update(status="PAID", transfer_id="tr_1")
    snap.transfers["tr_1"] = {**transfer("tr_1", "o1"), "metadata": {"seller_id": "s2"}}
    assert seller_violations(snap) == ["seller never onboarded was paid"]


def test_a_seller_who_never_onboarded_is_not_payable():
    snap = sellers_state()
    snap.seller_accounts["s2"] = {"_id": "s2", "payouts_enabled": True}
    assert seller_violations(snap) == ["seller never onboarded is payable"]


def test_the_coverage_counts_payouts_released_by_a_mid_run_onboarding():
    snap = sellers_state()
    # s1 onboarded mid-run, after o9's payout was scheduled (two minutes back): released.
    onboarded = (NOW - timedelta(seconds=60)).timestamp()
    assert money_coverage(snap, {"s1": onboarded}, ["s1"], ["s2"]) == {
        "paid": 1,
        "waiting": 1,
        "released": 1,
        "transfers": 1,
    }
    # Onboarded before it was scheduled: paid at once, not released.
    early = (NOW - timedelta(seconds=300)).timestamp()
    assert money_coverage(snap, {"s1": early}, ["s1"], ["s2"])["released"] == 0
