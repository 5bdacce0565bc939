"""A chaos run's outcome: per fault, the client errors during it, the time to recover and the
invariant violations that concern it; and everything that makes the run fail."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tests.chaos.invariants import Violation
from tests.chaos.load import ClientError, Flow

if TYPE_CHECKING:
    from tests.chaos.run import ChaosSettings

BETWEEN = "(outside any fault)"


@dataclass(frozen=True)
class FaultRun:
    fault: str
    round: int
    killed_at: float  # wall clock
    restarted_at: float  # running again (listening, or answering for the broker and Redis)
    recover_seconds: float | None  # from restarted_at to the first purchase through; None: never
    drained: bool = True  # the retries it caused were done before the next fault

    @property
    def label(self) -> str:
        return f"{self.fault} #{self.round}"

    @property
    def recovered_at(self) -> float | None:
        if self.recover_seconds is None:
            return None
        return self.restarted_at + self.recover_seconds


@dataclass
class ChaosReport:
    settings: ChaosSettings
    faults: list[FaultRun]
    flows: list[Flow]
    errors: list[ClientError]
    violations: list[Violation]
    settled: bool
    still_busy: str
    baseline_seconds: float | None
    crashes: list[str]
    log_dir: Path
    lateness: list[tuple[float, float]]  # (expiresAt, seconds still open after it), if late
    # What the payouts went through (tests/chaos/payout_checks.py `money_coverage`).
    money: dict[str, int] = field(default_factory=dict)
    # Deliveries by how they ended (DELIVERED, MISSED, CANCELLED, ...), and mails received.
    deliveries: dict[str, int] = field(default_factory=dict)
    mails: int = 0

    def _label_of_due(self, due: float) -> str:
        """The fault during which (from the kill to 2 s after the recovery) an order fell due;
        the later one where two overlap."""
        label = BETWEEN
        for index, run in enumerate(self.faults):
            if run.killed_at <= due <= self._window_end(index) + 2:
                label = run.label
        return label

    def lateness_by_fault(self) -> dict[str, float]:
        """The most an order falling due during each fault was seen open after expiresAt."""
        worst: dict[str, float] = {}
        for due, late in self.lateness:
            label = self._label_of_due(due)
            worst[label] = max(worst.get(label, 0.0), late)
        return worst

    def _window_end(self, index: int) -> float:
        run = self.faults[index]
        if run.recovered_at is not None:
            return run.recovered_at
        later = self.faults[index + 1 : index + 2]
        return later[0].killed_at if later else float("inf")

    def errors_during(self) -> dict[str, list[ClientError]]:
        """Client errors from each kill until the first purchase went through again."""
        by_fault: dict[str, list[ClientError]] = {r.label: [] for r in self.faults}
        by_fault[BETWEEN] = []
        for error in self.errors:
            label = BETWEEN
            for index, run in enumerate(self.faults):
                if run.killed_at <= error.at <= self._window_end(index):
                    label = run.label
            by_fault[label].append(error)
        return by_fault

    def violations_by_fault(self) -> dict[str, list[Violation]]:
        """A violation about an order goes to the last fault before that order was due (plus
        2 s) that had not recovered (plus 2 s) when the order was placed: the fault it lived
        through closest to its end."""
        hold = self.settings.hold_seconds
        by_fault: dict[str, list[Violation]] = {r.label: [] for r in self.faults}
        by_fault[BETWEEN] = []
        for violation in self.violations:
            label = BETWEEN
            if violation.at is not None:
                for index, run in enumerate(self.faults):
                    placed = violation.at - hold
                    if run.killed_at <= violation.at + 2 and placed <= self._window_end(index) + 2:
                        label = run.label
            by_fault[label].append(violation)
        return by_fault

    def unexpected(self) -> list[ClientError]:
        return [e for e in self.errors if not e.expected]

    def failures(self) -> list[str]:
        """Everything that fails the run, one line each."""
        lines = [str(v) for v in self.violations]
        grouped = Counter((e.operation, e.kind, e.message) for e in self.unexpected())
        for (operation, kind, message), count in grouped.most_common():
            lines.append(f"unexpected client error: {operation} -> {kind} ({message}) x{count}")
        for run in self.faults:
            if run.recover_seconds is None:
                lines.append(
                    f"not recovered: no purchase went through within "
                    f"{self.settings.recover_timeout:.0f}s of restarting {run.fault}"
                )
        if not self.settled:
            lines.append(f"never settled: {self.still_busy}")
        lines.extend(f"load crashed: {c}" for c in self.crashes)
        return lines

    def table(self) -> str:
        errors = self.errors_during()
        violations = self.violations_by_fault()
        late = self.lateness_by_fault()
        rows = [
            (
                "fault",
                "client errors",
                "of which",
                "unexpected",
                "recover s",
                "expiry late s",
                "violations",
            )
        ]
        for run in self.faults:
            label = run.label
            rows.append(_row(label, errors[label], violations[label], run, late.get(label)))
        rows.append(_row(BETWEEN, errors[BETWEEN], violations[BETWEEN], None, late.get(BETWEEN)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        answers = Counter(f.answer.split(" (")[0] for f in self.flows)
        baseline = "-" if self.baseline_seconds is None else f"{self.baseline_seconds:.2f}s"
        summary = [
            f"{len(self.flows)} flows by {self.settings.users} users, "
            f"{self.settings.down_seconds:.0f}s down per fault, "
            f"{self.settings.hold_seconds}s hold; a purchase end to end took {baseline} "
            "before the faults",
            "buyers were told: " + ", ".join(f"{k} {v}" for k, v in sorted(answers.items())),
            "recover: from the restart to the first purchase shown COMPLETE again; "
            "expiry late: the most an order due meanwhile was seen open after its expiresAt; "
            "retries left: events of it still waiting to be retried when the next fault came",
        ]
        return "\n".join([*summary, "", *lines])

    def render(self) -> str:
        failures = self.failures()
        text = [self.table(), ""]
        if failures:
            text.append(f"{len(failures)} failures:")
            text.extend(f"  - {line}" for line in failures[:80])
            if len(failures) > 80:
                text.append(f"  ... and {len(failures) - 80} more")
            text.append(f"service logs: {self.log_dir}")
        else:
            text.append("every invariant held")
        return "\n".join(text)


def _row(
    label: str,
    errors: list[ClientError],
    violations: list[Violation],
    run: FaultRun | None,
    late: float | None,
) -> tuple[str, ...]:
    kinds = Counter(e.kind.split(":")[0] for e in errors if e.expected)
    of_which = ", ".join(f"{k} {n}" for k, n in kinds.most_common(3)) or "-"
    if run is None:
        recover = "-"
    elif run.recover_seconds is None:
        recover = "never"
    else:
        recover = f"{run.recover_seconds:.1f}"
    if run is not None and not run.drained:
        recover += " (retries left)"
    unexpected = Counter(e.kind for e in errors if not e.expected)
    unexpected_cell = ", ".join(f"{k} {n}" for k, n in unexpected.most_common(3)) or "0"
    kinds_of_violation = Counter(v.invariant for v in violations)
    violation_cell = ", ".join(f"{k} {n}" for k, n in kinds_of_violation.most_common()) or "0"
    late_cell = "-" if late is None else f"{late:.1f}"
    cells = (label, str(len(errors)), of_which, unexpected_cell, recover, late_cell)
    return (*cells, violation_cell)
