"""One chaos run: the stack up, the load on (and acknowledged writes straight to the database),
each fault in turn (SIGKILL, down for a while, restarted on the same port, then timed until a
purchase goes through end to end again), the load off, a bounded wait until the system is
quiet, and the invariants checked."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from svc_payments.bootstrap import charge_lease
from svc_payments.config import PaymentsSettings
from tests.chaos.infra import ChaosStack, chaos_stack
from tests.chaos.invariants import Violation, check
from tests.chaos.load import Load, Probe
from tests.chaos.observe import Snapshot, list_queues, settle, snapshot, wait_for_retries
from tests.chaos.report import ChaosReport, FaultRun
from tests.chaos.watch import ExpiryWatch
from tests.chaos.writes import AcknowledgedWrites


@dataclass(frozen=True)
class Fault:
    name: str
    kill: Callable[[ChaosStack], None]
    restart: Callable[[ChaosStack], None]


def _service(name: str) -> Fault:
    return Fault(name, lambda s: s.services.kill(name), lambda s: s.services.start(name))


FAULTS: tuple[Fault, ...] = (
    *(_service(n) for n in ("orders", "tickets", "payments", "expiration", "auth", "gateway")),
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
)


def run_chaos(
    work_dir: Path, settings: ChaosSettings, say: Callable[[str], None] = print
) -> ChaosReport:
    with chaos_stack(work_dir, settings.hold_seconds) as stack:
        say(f"stack up (namespace {stack.namespace}, logs in {work_dir / 'logs'})")
        load = Load(stack.base_url, settings.users, settings.max_flows, settings.think_seconds)
        probe = Probe(stack.base_url)
        watch = ExpiryWatch(stack)
        watch.start()
        writes = AcknowledgedWrites(stack.mongo_url, stack.namespace, writers=2)
        writes.start()
        try:
            runs, baseline = faults_under_load(stack, settings, load, probe, say)
        finally:
            writes.stop()
        try:
            say(f"load stopped after {len(load.flows)} flows; waiting for the system to settle")
            settled, busy = settle(stack, settle_within(stack, settings))
        finally:
            watch.stop()
        snap = snapshot(stack)
        violations = check(snap, [*load.flows, *probe.flows])
        say(money_checked(snap))
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
        )


def money_checked(snap: Snapshot) -> str:
    """What the money invariants had to check, for the run's output."""
    kinds = Counter(e["kind"] for e in snap.ledger_entries)
    payouts = Counter(p["status"] for p in snap.payouts)
    charged = sum(i.get("status") == "succeeded" for i in snap.intents)
    return (
        f"money: {charged} successful charges, {len(snap.refunds)} refunds at Stripe; "
        f"{len(snap.ledger_entries)} ledger entries ({dict(sorted(kinds.items()))}); "
        f"payouts {dict(sorted(payouts.items()))}; reconciliation: {snap.reconciled} pairs "
        f"agree, {len(snap.ledger_differences)} differences"
    )


def settle_within(stack: ChaosStack, settings: ChaosSettings) -> float:
    lease = charge_lease(PaymentsSettings.from_env(stack.services.env)).total_seconds()
    return max(settings.hold_seconds + 2, lease) + settings.settle_grace


def faults_under_load(
    stack: ChaosStack,
    settings: ChaosSettings,
    load: Load,
    probe: Probe,
    say: Callable[[str], None],
) -> tuple[list[FaultRun], float | None]:
    """Every fault in turn, `rounds` times, while the load runs; then the load stopped.
    Returns the faults' runs and how long a purchase took before any fault."""
    runs: list[FaultRun] = []
    try:
        probe.sign_up()
        baseline = probe.recover(30)
        list_queues(stack)  # every consumer has declared its queues by now
        load.start()
        time.sleep(settings.gap_seconds + 1)
        for round_ in range(1, settings.rounds + 1):
            for fault in FAULTS:
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
