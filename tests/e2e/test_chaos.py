"""The system under faults: purchase flows (paid, declined, left to expire) from concurrent
users while orders, tickets, payments, expiration, auth, the gateway, RabbitMQ, Redis (with
its data, then without) and the database are each killed with SIGKILL and brought back on the
same port. Sellers onboard to Stripe Connect (one only mid-run, one never) and their payouts
fall due and are transferred by payments' sweep during the faults; sellers deliver some paid
orders and leave the rest to miss their deadline (refunded), while delivery and notifications
are killed too, and notifications mails a maildev of the run's. Then nothing may be lost or
doubled, nothing acknowledged missing, no transfer made twice or for nothing, no mail sent twice
or lost: see tests/chaos/invariants.py, tests/chaos/payout_checks.py,
tests/chaos/delivery_checks.py and tests/chaos/writes.py. The short
version of `make chaos`; every part of it is private (broker, Redis, database, Stripe, ports)."""

from __future__ import annotations

import pytest

from tests.chaos.run import FAULTS, QUICK, run_chaos

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(480)]  # e2e: by its folder


def test_every_invariant_holds_through_each_kill(tmp_path):
    report = run_chaos(tmp_path, QUICK)  # its progress is shown with the output
    print(report.render())  # shown with -s, or with the failure below

    assert [r.fault for r in report.faults] == [f.name for f in FAULTS]
    assert len(report.flows) >= len(FAULTS), "too little load to prove anything"
    assert {f.answer for f in report.flows} >= {"paid", "declined", "left"}
    # The payouts went every way the checks judge: transferred, released by a seller's
    # onboarding mid-run then transferred, and left waiting for one who never onboards.
    assert report.money["paid"] and report.money["released"] and report.money["waiting"], (
        f"too few payouts to prove anything: {report.money}"
    )
    # Paid orders went both ways the delivery checks judge: delivered, and missed (refunded).
    assert report.deliveries.get("DELIVERED") and report.deliveries.get("MISSED"), (
        f"too few deliveries to prove anything: {report.deliveries}"
    )
    assert report.mails, "no mail received: the mail checks proved nothing"
    failures = report.failures()
    assert not failures, (
        f"{len(failures)} failures under chaos:\n"
        + "\n".join(f"  - {line}" for line in failures[:60])
        + f"\n\n{report.table()}\nservice logs: {report.log_dir}"
    )
