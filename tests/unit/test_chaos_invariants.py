"""The chaos run's invariant checks catch what they name: each broken state, built by hand the
way the services store it, gives its violation; a consistent state gives none."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from tests.chaos.invariants import check
from tests.chaos.load import Flow, Plan
from tests.chaos.observe import Snapshot

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


def intent(id: str, status: str, order_id: str) -> dict:
    charge = id.replace("pi_", "ch_")
    metadata = {"order_id": order_id}
    return {"id": id, "status": status, "latest_charge": charge, "metadata": metadata}


def consistent() -> Snapshot:
    """t1 sold to o1 (paid, charge kept), t2 released by o2 (expired), t3 held by o3 (not yet
    due); o4 paid late for t4 after it expired and was refunded. The seats as tickets holds
    them: one hold per order, sold once paid."""
    orders = [
        order("o1", "t1", "COMPLETE"),
        order("o2", "t2", "CANCELLED"),
        order("o3", "t3", "CREATED", due_in=5),
        order("o4", "t4", "CANCELLED"),
    ]
    holds = {"t1": [hold("o1", sold=True)], "t2": [], "t3": [hold("o3")], "t4": []}
    return Snapshot(
        orders={o["_id"]: o for o in orders},
        tickets={t: {"_id": t, "holds": h} for t, h in holds.items()},
        payment_orders={o["_id"]: {"_id": o["_id"], "status": o["status"]} for o in orders},
        payments=[
            {"_id": "p1", "order_id": "o1", "stripe_id": "pi_1", "status": "succeeded"},
            {"_id": "p4", "order_id": "o4", "stripe_id": "pi_4", "status": "refunded"},
        ],
        unsent={"orders": 0, "tickets": 0},
        intents=[
            intent("pi_1", "succeeded", "o1"),
            intent("pi_4", "succeeded", "o4"),
            intent("pi_2", "requires_payment_method", "o2"),
        ],
        refunds=[{"id": "re_4", "charge": "ch_4", "payment_intent": "pi_4"}],
        queued={},
        dead={"orders": [], "payments": []},
        taken_at=NOW,
    )


def flows() -> list[Flow]:
    told = [("t1", "o1", Plan.PAY, "paid"), ("t2", "o2", Plan.LEAVE, "left")]
    told.append(("t4", "o4", Plan.PAY, "paid"))  # refunded: allowed
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
        (_charge_kept_for_cancelled, ["charge kept for an order not COMPLETE"]),
        (_charge_unrecorded, ["charge without its record"]),
        (_dead_letter, ["dead letter"]),
        (
            _expired_order_completed,
            ["buyer told otherwise", "complete order without exactly one kept charge"],
        ),
    ],
)
def test_each_broken_state_is_named(change, expected):
    assert broken(change) == expected
