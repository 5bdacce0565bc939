"""The chaos run's delivery, mail and pass checks (tests/chaos/delivery_checks.py) catch what they
name: each broken state, built by hand the way the services (and maildev) store it, gives its
violation; a consistent state gives none."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from svc_delivery.domain.methods import DeliveryStatus
from tests.chaos.delivery_checks import check_delivery, check_passes, valid_codes
from tests.chaos.invariants import check
from tests.chaos.load import Flow, Plan
from tests.chaos.observe import Snapshot

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
DOMAIN = "ticketing.localhost"


def order(id: str, status: str) -> dict:
    return {
        "_id": id,
        "ticket_id": f"t{id[1:]}",
        "status": status,
        "expires_at": NOW - timedelta(seconds=60),
        "created_at": NOW - timedelta(seconds=66),
    }


def delivery(order_id: str, status: DeliveryStatus, deliver_by_in: float = -30) -> dict:
    """As delivery stores it (svc_delivery/adapters/repository.py): the status as its number."""
    return {
        "_id": order_id,
        "seller_id": "s1",
        "buyer_id": "b1",
        "status": status.value,
        "deliver_by": NOW + timedelta(seconds=deliver_by_in),
    }


def intent(order_id: str, amount: int = 2200) -> dict:
    return {
        "id": f"pi_{order_id}",
        "status": "succeeded",
        "amount": amount,
        "latest_charge": f"ch_{order_id}",
        "metadata": {"order_id": order_id},
    }


def mail(id: str, kind: str, order_id: str, status: str = "sent") -> dict:
    """A mail of notifications' outbox (svc_notifications/adapters/documents.py)."""
    return {
        "_id": id,
        "kind": kind,
        "recipient_id": "b1",
        "order_id": order_id,
        "status": status,
        "attempts": 1,
    }


def received(mail_id: str) -> dict:
    """A mail as maildev's REST API shows it (GET /email)."""
    return {"id": f"m-{mail_id}", "headers": {"message-id": f"<{mail_id}@{DOMAIN}>"}}


def consistent() -> Snapshot:
    """o1 paid and delivered; o2 paid, its delivery missed: refunded in full (payments and
    Stripe) and its payout reversed; o3 unpaid, its delivery cancelled; o4 paid a moment ago,
    due within its deadline. s1's record: one delivered, one missed. Each paid order's receipt
    mailed once, o2's refund and missed delivery too."""
    mails = [
        mail("m1", "order_confirmed", "o1"),
        mail("m2", "order_confirmed", "o2"),
        mail("m2r", "refund_issued", "o2"),
        mail("m2m", "delivery_missed", "o2"),
        mail("m4", "order_confirmed", "o4"),
    ]
    return Snapshot(
        orders={
            o["_id"]: o
            for o in (
                order("o1", "COMPLETE"),
                order("o2", "COMPLETE"),
                order("o3", "CANCELLED"),
                order("o4", "COMPLETE"),
            )
        },
        tickets={},
        payment_orders={},
        payments=[],
        unsent={},
        intents=[intent("o1"), intent("o2"), intent("o4")],
        refunds=[{"id": "re_2", "payment_intent": "pi_o2", "amount": 2200}],
        queued={},
        dead={},
        taken_at=NOW,
        payouts=[
            {"_id": "po-o1", "order_id": "o1", "status": "PAID", "transfer_id": "tr_1"},
            {"_id": "po-o2", "order_id": "o2", "status": "REVERSED", "transfer_id": "tr_2"},
        ],
        deliveries={
            "o1": delivery("o1", DeliveryStatus.DELIVERED),
            "o2": delivery("o2", DeliveryStatus.MISSED),
            "o3": delivery("o3", DeliveryStatus.CANCELLED),
            "o4": delivery("o4", DeliveryStatus.DUE, deliver_by_in=10),
        },
        seller_records={"s1": {"_id": "s1", "delivered": 1, "missed": 1}},
        payment_refunds=[
            {
                "_id": "r2",
                "order_id": "o2",
                "origin": "DELIVERY_MISSED",
                "state": "SUCCEEDED",
                "amount_minor": 2200,
            }
        ],
        mails=mails,
        mailbox=[received(m["_id"]) for m in mails],
    )


def flows() -> list[Flow]:
    delivered = Flow(Plan.PAY, 0, order_id="o1", answer="paid", deliver=True)
    delivered.delivery = "delivered"
    return [delivered, Flow(Plan.PAY, 0, order_id="o2", answer="paid")]


def test_a_consistent_state_has_no_violation():
    snap = consistent()
    assert check_delivery(snap, flows()) == []
    # The charge checks know a missed delivery keeps no charge (o2's was refunded).
    snap.payouts = []
    assert "missed delivery's charge kept" not in {v.invariant for v in check(snap, [])}


def broken(change) -> list[str]:
    snap = copy.deepcopy(consistent())
    change(snap)
    return sorted({v.invariant for v in check_delivery(snap, flows())})


def _no_delivery(s):
    del s.deliveries["o2"]
    s.seller_records["s1"]["missed"] = 0


def _left_due(s):
    s.deliveries["o4"]["deliver_by"] = NOW - timedelta(seconds=6)


def _awaiting_payment(s):
    s.deliveries["o4"]["status"] = DeliveryStatus.AWAITING_PAYMENT.value


def _refund_not_at_stripe(s):
    s.refunds.clear()


def _refund_not_recorded(s):
    s.payment_refunds[0]["state"] = "APPROVED"


def _refund_partial(s):
    s.payment_refunds[0]["amount_minor"] = 1000


def _missed_paid_out(s):
    s.payouts[1]["status"] = "PAID"


def _unpaid_delivered(s):
    s.deliveries["o3"]["status"] = DeliveryStatus.DELIVERED.value
    s.seller_records["s1"]["delivered"] = 2


def _unpaid_due(s):
    s.deliveries["o3"].update(status=DeliveryStatus.DUE.value, deliver_by=NOW)


def _record_off(s):
    s.seller_records["s1"]["missed"] = 2


def _record_lost(s):
    del s.seller_records["s1"]


def _seller_told_otherwise(s):
    s.deliveries["o1"]["status"] = DeliveryStatus.MISSED.value
    s.seller_records["s1"].update(delivered=0, missed=2)
    s.payment_refunds.append({**s.payment_refunds[0], "_id": "r1", "order_id": "o1"})
    s.refunds.append({"id": "re_1", "payment_intent": "pi_o1", "amount": 2200})
    s.payouts[0]["status"] = "REVERSED"


def _sent_twice(s):
    s.mailbox.append(received("m1"))


def _received_unmarked(s):
    s.mails[0]["status"] = "pending"


def _sent_lost(s):
    s.mailbox.pop(0)


def _failed(s):
    s.mails.append(mail("m9", "payout_paid", "o1", status="failed"))


def _no_receipt(s):
    s.mails = [m for m in s.mails if m["_id"] != "m4"]
    s.mailbox = [m for m in s.mailbox if "m4@" not in m["headers"]["message-id"]]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_no_delivery, ["paid order without its delivery"]),
        (_left_due, ["delivery overdue"]),
        (_awaiting_payment, ["paid order neither delivered nor missed"]),
        (_refund_not_at_stripe, ["missed delivery not refunded in full"]),
        (_refund_not_recorded, ["missed delivery not refunded in full"]),
        (_refund_partial, ["missed delivery not refunded in full"]),
        (_missed_paid_out, ["missed delivery's seller paid"]),
        (_unpaid_delivered, ["delivery of an unpaid order"]),
        (_unpaid_due, ["delivery of an unpaid order"]),
        (_record_off, ["seller record disagrees with deliveries"]),
        (_record_lost, ["seller record disagrees with deliveries"]),
        (_seller_told_otherwise, ["seller told otherwise"]),
        (_sent_twice, ["mail sent twice"]),
        (_received_unmarked, ["mail not sent", "mail received but not marked sent"]),
        (_sent_lost, ["sent mail lost"]),
        (_failed, ["mail not sent"]),
        (_no_receipt, ["paid order without its receipt mail"]),
    ],
)
def test_each_broken_state_is_reported(change, expected):
    assert broken(change) == expected


def test_a_due_delivery_within_the_sweeps_slack_is_no_violation():
    def just_past(s):
        s.deliveries["o4"]["deliver_by"] = NOW - timedelta(seconds=4)

    assert broken(just_past) == []


def test_a_missed_order_keeping_its_charge_is_reported_by_the_charge_checks():
    snap = consistent()
    snap.refunds.clear()
    snap.payouts = []
    assert "missed delivery's charge kept" in {v.invariant for v in check(snap, [])}


# Passes (the hook for "no code valid for two holders"). -------------------------------------


def a_pass(id: str, holder: str, serial: int, state: str = "ACTIVE", seat: int = 0) -> dict:
    return {
        "_id": id,
        "order_id": "o1",
        "seat": seat,
        "holder_id": holder,
        "serial": serial,
        "state": state,
    }


def test_passes_are_not_checked_while_delivery_keeps_none():
    snap = consistent()
    snap.pass_issues = [("p1", "b1", 1), ("p1", "b2", 1)]  # would be a violation
    assert snap.passes is None
    assert check_passes(snap) == []


def test_only_the_latest_serial_of_a_pass_is_valid():
    # Issued to b1 (serial 1), then transferred to b2 (serial 2): b1's code is revoked.
    assert valid_codes({("b1", 1)}, a_pass("p1", "b2", 2)) == {("b2", 2)}
    # VOID: none.
    assert valid_codes({("b1", 1)}, a_pass("p1", "b1", 1, state="VOID")) == set()


def test_a_consistent_set_of_passes_has_no_violation():
    snap = consistent()
    snap.passes = [
        a_pass("p1", "b2", 2),
        a_pass("p2", "b1", 1, state="VOID"),
        a_pass("p3", "b1", 1, seat=1),
    ]
    snap.pass_issues = [("p1", "b1", 1), ("p1", "b2", 2), ("p2", "b1", 1), ("p3", "b1", 1)]
    assert check_passes(snap) == []


@pytest.mark.parametrize(
    ("passes", "issues", "expected"),
    [
        # Two holders at serial 2: a re-issue that did not move the serial.
        ([a_pass("p1", "b2", 2)], [("p1", "b1", 2), ("p1", "b2", 2)], "code valid for two holders"),
        # The stored serial is behind one issued: the newer holder's code is refused, the old
        # one still valid.
        ([a_pass("p1", "b1", 1)], [("p1", "b1", 1), ("p1", "b2", 2)], "code valid for two holders"),
        ([a_pass("p1", "b1", 1), a_pass("p2", "b2", 1)], [], "seat with two passes"),
    ],
)
def test_each_broken_pass_is_reported(passes, issues, expected):
    snap = consistent()
    snap.passes, snap.pass_issues = passes, issues
    assert [v.invariant for v in check_passes(snap)] == [expected]


def test_a_pass_of_an_order_not_delivered_is_reported():
    snap = consistent()
    snap.passes = [{**a_pass("p1", "b1", 1), "order_id": "o2"}]
    assert [v.invariant for v in check_passes(snap)] == ["pass of an undelivered order"]
