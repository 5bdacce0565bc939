"""One chaos run: the stack up, the load on (and acknowledged writes straight to the database),
each fault in turn (SIGKILL, down for a while, restarted on the same port, then timed until a
purchase goes through end to end again), the load off, a bounded wait until the system is
quiet, and the invariants checked.

Sellers are paid under the faults: payments runs with a short payout delay and sweep period
(`payout_delay_seconds`, `payout_sweep_seconds`), so each paid order's payout falls due and is
transferred during the run, while payments, the database and the rest are killed. Two sellers
in three onboard to Stripe Connect (tests/chaos/sellers.py), one of them only once the
payments fault comes (its waiting payouts released then); the third never does.

Sellers deliver under the faults (issue 22): the delivery service runs with a short deadline
for the load's listings (`delivery_deadline_seconds`, which have no event) and sweep; a seller
delivers every other paid order at once (tests/chaos/delivering.py) and leaves the rest, and
the probe's, to miss the deadline: MISSED by the sweep, refunded by payments, while delivery,
notifications and the rest are killed. Notifications mails the run's maildev, never killed."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from svc_delivery.domain.methods import DeliveryStatus
from svc_payments.bootstrap import charge_lease
from svc_payments.config import PaymentsSettings
from tests.chaos.delivering import deliver
from tests.chaos.delivery_checks import check_delivery
from tests.chaos.infra import LISTEN_WITHIN, ChaosStack, chaos_stack
from tests.chaos.invariants import Violation, check
from tests.chaos.load import Flow, Load, Probe
from tests.chaos.observe import Snapshot, list_queues, settle, snapshot, wait_for_retries
from tests.chaos.payout_checks import check_sellers, money_coverage
from tests.chaos.report import ChaosReport, FaultRun
from tests.chaos.sellers import Onboarding, Sellers
from tests.chaos.watch import ExpiryWatch
from tests.chaos.writes import AcknowledgedWrites


@dataclass(frozen=True)
class Fault:
    name: str
    kill: Callable[[ChaosStack], None]
    restart: Callable[[ChaosStack], None]


def _service(name: str) -> Fault:
    return Fault(
        name,
        lambda s: s.services.kill(name),
        lambda s: s.services.start(name, LISTEN_WITHIN),
    )


FAULTS: tuple[Fault, ...] = (
    *(_service(n) for n in ("orders", "tickets", "payments", "expiration", "auth", "gateway")),
    *(_service(n) for n in ("delivery", "notifications")),
    Fault("rabbitmq", lambda s: s.rabbit.kill(), lambda s: s.rabbit.start()),
    Fault(
        "redis (with data)",
        lambda s: s.redis.kill(),
        lambda s: s.redis.start(keep_data=True),
    ),
    Fault(
        "redis (without data)",
        lambda s: s.redis.kill(),
        lambda s: s.redis.start(keep_data=False),
    ),
    Fault("mongodb", lambda s: s.mongo.kill(), lambda s: s.mongo.start()),
)


# Right before this fault (in the first round) the mid-run sellers onboard: payments is killed
# while their waiting payouts are released and the first of them paid.
ONBOARD_MID_RUN_BEFORE = "payments"


@dataclass(frozen=True)
class ChaosSettings:
    users: int  # concurrent buyer/seller pairs
    max_flows: int  # per user, a bound on top of the time the faults take
    think_seconds: float  # pause between a user's flows
    down_seconds: float  # how long each killed part stays down
    rounds: int  # times through FAULTS
    hold_seconds: int  # ORDER_EXPIRATION_SECONDS: unpaid orders expire during the run
    gap_seconds: float  # calm between a recovery and the next kill
    recover_timeout: float  # a part not serving again after this is a failure
    # For the system to go quiet: after the last order's expiresAt + 2 s, or after the charge
    # lease of a payment cut off mid-way (the database killed between its charge and its
    # record: the webhook settles it once the lease has run out), whichever is later.
    settle_grace: float
    drain_timeout: float  # after a recovery, for the retries it caused, before the next fault
    # PAYOUT_DELAY_AFTER_EVENT_SECONDS (the load's v1 listings name no event: a payout is due
    # this long after its payment): longer than an order's cancellation can take to reach
    # payments under a fault, as the real delay (48 h) is, so that no payout is transferred
    # for an order whose cancellation is still on its way (its transfer is not reversed yet).
    payout_delay_seconds: float
    payout_sweep_seconds: float  # PAYOUT_SWEEP_SECONDS
    # DELIVERY_DEADLINE_NO_EVENT_SECONDS: a v1 listing's order must be delivered this long
    # after its seats were held; the orders its seller leaves undelivered are MISSED (and
    # refunded) during the run, under the faults. Longer than the payout delay: a missed
    # order's payout has been transferred, and its refund reverses the transfer.
    delivery_deadline_seconds: float
    delivery_sweep_seconds: float  # DELIVERY_SWEEP_SECONDS


QUICK = ChaosSettings(
    users=3,
    max_flows=150,
    think_seconds=0.3,
    down_seconds=3,
    rounds=1,
    hold_seconds=6,
    gap_seconds=0.5,
    recover_timeout=45,
    settle_grace=5,
    drain_timeout=10,
    payout_delay_seconds=10,
    payout_sweep_seconds=0.5,
    delivery_deadline_seconds=15,
    delivery_sweep_seconds=1,
)

LONG = ChaosSettings(
    users=6,
    max_flows=400,
    think_seconds=0.2,
    down_seconds=8,
    rounds=2,
    hold_seconds=10,
    gap_seconds=3,
    recover_timeout=90,
    settle_grace=15,
    drain_timeout=40,
    payout_delay_seconds=20,
    payout_sweep_seconds=0.5,
    delivery_deadline_seconds=30,
    delivery_sweep_seconds=1,
)

# Notifications under the faults: a mail is looked for often, retried soon after a failure (the
# database or the broker down), and a killed sender's claimed mails come back within the run.
MAIL_SETTINGS = {
    "NOTIFICATIONS_POLL_SECONDS": "0.2",
    "NOTIFICATIONS_LEASE_SECONDS": "10",
    "NOTIFICATIONS_RETRY_FIRST_SECONDS": "1",
    "NOTIFICATIONS_RETRY_MAX_SECONDS": "2",
    "NOTIFICATIONS_MAX_ATTEMPTS": "30",
}


def run_chaos(
    work_dir: Path, settings: ChaosSettings, say: Callable[[str], None] = print
) -> ChaosReport:
    env = {
        "PAYOUT_DELAY_AFTER_EVENT_SECONDS": str(settings.payout_delay_seconds),
        "PAYOUT_SWEEP_SECONDS": str(settings.payout_sweep_seconds),
        "DELIVERY_DEADLINE_NO_EVENT_SECONDS": str(settings.delivery_deadline_seconds),
        "DELIVERY_SWEEP_SECONDS": str(settings.delivery_sweep_seconds),
        "DELIVERY_REMINDER_BEFORE_SECONDS": "0",  # no reminder mails: their timing is the clock's
        **MAIL_SETTINGS,
    }
    with chaos_stack(work_dir, settings.hold_seconds, env) as stack:
        say(f"stack up (namespace {stack.namespace}, logs in {work_dir / 'logs'})")
        sellers = Sellers()
        load = Load(
            stack.base_url,
            settings.users,
            settings.max_flows,
            settings.think_seconds,
            sellers,
            deliver=deliver,
        )
        probe = Probe(stack.base_url)
        watch = ExpiryWatch(stack)
        watch.start()
        writes = AcknowledgedWrites(stack.mongo_url, stack.namespace, writers=2)
        writes.start()
        try:
            runs, baseline = faults_under_load(stack, settings, load, probe, sellers, say)
        finally:
            writes.stop()
        try:
            say(f"load stopped after {len(load.flows)} flows; waiting for the system to settle")
            settled, busy = settle(stack, settle_within(stack, settings))
        finally:
            watch.stop()
        snap = snapshot(stack)
        violations = check(snap, [*load.flows, *probe.flows])
        never = sellers.of(Onboarding.NEVER)
        violations += check_sellers(snap, sellers.completed, never)
        violations += check_delivery(snap, [*load.flows, *probe.flows])
        money = money_coverage(snap, sellers.completed, sellers.of(Onboarding.MID_RUN), never)
        say(money_checked(snap, money))
        say(delivery_checked(snap, load.flows))
        violations += writes.lost()
        say(f"{len(writes.acknowledged)} writes acknowledged straight by the database")
        violations += [Violation("webhook never accepted", f) for f in stack.webhooks.failed]
        return ChaosReport(
            settings=settings,
            faults=runs,
            flows=load.flows,
            errors=load.errors.snapshot(),
            violations=violations,
            settled=settled,
            still_busy=busy,
            baseline_seconds=baseline,
            crashes=load.crashes,
            lateness=watch.lateness(),
            log_dir=work_dir / "logs",
            money=money,
            deliveries=dict(
                Counter(DeliveryStatus(d["status"]).name for d in snap.deliveries.values())
            ),
            mails=len(snap.mailbox),
        )


def money_checked(snap: Snapshot, money: dict[str, int]) -> str:
    """What the money invariants had to check, for the run's output."""
    kinds = Counter(e["kind"] for e in snap.ledger_entries)
    payouts = Counter(p["status"] for p in snap.payouts)
    charged = sum(i.get("status") == "succeeded" for i in snap.intents)
    return (
        f"money: {charged} successful charges, {len(snap.refunds)} refunds at Stripe; "
        f"{len(snap.ledger_entries)} ledger entries ({dict(sorted(kinds.items()))}); "
        f"payouts {dict(sorted(payouts.items()))}, {money['transfers']} transfers at Stripe "
        f"({money['released']} paid after waiting for a mid-run onboarding, {money['waiting']} "
        f"waiting for sellers who never onboard); reconciliation: {snap.reconciled} pairs "
        f"agree, {len(snap.ledger_differences)} differences"
    )


def delivery_checked(snap: Snapshot, flows: list[Flow]) -> str:
    """What the delivery and mail invariants had to check, for the run's output."""
    deliveries = Counter(DeliveryStatus(d["status"]).name for d in snap.deliveries.values())
    told = Counter(f.delivery.split(" (")[0] for f in flows if f.delivery)
    mails = Counter(m["kind"] for m in snap.mails if m["status"] == "sent")
    return (
        f"deliveries {dict(sorted(deliveries.items()))}; "
        f"sellers told {dict(sorted(told.items()))}; "
        f"{len(snap.mailbox)} mails received, sent by kind {dict(sorted(mails.items()))}; "
        f"passes {'not kept yet' if snap.passes is None else len(snap.passes)}"
    )


def settle_within(stack: ChaosStack, settings: ChaosSettings) -> float:
    lease = charge_lease(PaymentsSettings.from_env(stack.services.env)).total_seconds()
    payouts = settings.payout_delay_seconds + 2 * settings.payout_sweep_seconds
    # The last paid order left undelivered: MISSED by the sweep, then refunded.
    missed = settings.delivery_deadline_seconds + 2 * settings.delivery_sweep_seconds
    return max(settings.hold_seconds + 2, lease, payouts, missed) + settings.settle_grace


def faults_under_load(
    stack: ChaosStack,
    settings: ChaosSettings,
    load: Load,
    probe: Probe,
    sellers: Sellers,
    say: Callable[[str], None],
) -> tuple[list[FaultRun], float | None]:
    """Every fault in turn, `rounds` times, while the load runs; then the load stopped. The
    probe's seller onboards first; the mid-run sellers right before ONBOARD_MID_RUN_BEFORE.
    Returns the faults' runs and how long a purchase took before any fault."""
    runs: list[FaultRun] = []
    try:
        probe.sign_up()
        sellers.set_up(probe.client, probe.seller, Onboarding.AT_START)
        baseline = probe.recover(30)
        list_queues(stack)  # every consumer has declared its queues by now
        load.start()
        time.sleep(settings.gap_seconds + 1)
        for round_ in range(1, settings.rounds + 1):
            for fault in FAULTS:
                if fault.name == ONBOARD_MID_RUN_BEFORE:
                    sellers.mid_run.set()
                run = inject(stack, fault, round_, settings, probe)
                runs.append(run)
                serving = (
                    f"{run.recover_seconds:.1f}s later"
                    if run.recover_seconds is not None
                    else f"NOT within {settings.recover_timeout:.0f}s"
                )
                back = run.restarted_at - run.killed_at
                say(f"{fault.name:<22} round {round_}: back after {back:.1f}s, serving {serving}")
                time.sleep(settings.gap_seconds)
    finally:
        load.finish()
        probe.close()
    return runs, baseline


def inject(
    stack: ChaosStack, fault: Fault, round_: int, settings: ChaosSettings, probe: Probe
) -> FaultRun:
    killed_at = time.time()
    fault.kill(stack)
    time.sleep(settings.down_seconds)
    fault.restart(stack)
    restarted_at = time.time()
    took = probe.recover(settings.recover_timeout)
    drained = wait_for_retries(stack, settings.drain_timeout)
    return FaultRun(fault.name, round_, killed_at, restarted_at, took, drained)
