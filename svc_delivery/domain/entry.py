"""Entry: what a door answers for a scanned code, and how offline scanners' admissions merge.

A scan is decided by one function, `decide`, online (the service, with the event's entries as
they are) and offline (a scanner, with the kit it downloaded and its own admissions since):

    the code's text ─ not v1, unknown or retired key, bad signature ─► INVALID_SIGNATURE
                    ─ another event's ─────────────────────────────► WRONG_EVENT
                    ─ its serial revoked (re-issued, void) ─────────► REVOKED
                    ─ its pass admitted before ─────────────────────► ALREADY_SCANNED (when, where)
                    ─ otherwise ────────────────────────────────────► VALID: an admission

One admission per pass, whatever its serial: a seat gets one person in. The checks run in that
order so that nothing a forger wrote is believed (the event id is read only once signed), and a
transferred pass's old code says REVOKED rather than ALREADY_SCANNED.

Offline, two scanners can both admit one pass. When they sync, `EntryBook.record` keeps the
earliest admission as the entry and reports each other one as a `DoubleAdmission`; an admission
synced twice (its id known) changes nothing, so a scanner can re-sync after a lost answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from svc_delivery.domain import codes
from svc_delivery.domain.codes import CodeRejected, SignatureCheck
from svc_delivery.domain.keys import KeyRing


class ScanOutcome(StrEnum):
    VALID = "VALID"
    ALREADY_SCANNED = "ALREADY_SCANNED"
    REVOKED = "REVOKED"
    WRONG_EVENT = "WRONG_EVENT"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"


@dataclass(frozen=True)
class Admission:
    """A scanner let a pass in. `id` is unique per admission (a UUID the scanner makes), so a
    re-synced admission is recognised."""

    id: str
    event_id: str
    pass_id: str
    serial: int
    scanner_id: str
    gate: str
    at: datetime

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_id": self.event_id,
            "pass_id": self.pass_id,
            "serial": self.serial,
            "scanner_id": self.scanner_id,
            "gate": self.gate,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Admission:
        return cls(
            str(document["id"]),
            str(document["event_id"]),
            str(document["pass_id"]),
            int(document["serial"]),
            str(document["scanner_id"]),
            str(document["gate"]),
            datetime.fromisoformat(document["at"]),
        )


@dataclass(frozen=True)
class Scan:
    """A scan's answer. VALID: `admission` is the new one (to record); ALREADY_SCANNED: the
    earlier one (its time and gate shown). `rejection`: why a code is INVALID_SIGNATURE."""

    outcome: ScanOutcome
    code: codes.TicketCode | None = None
    admission: Admission | None = None
    rejection: codes.Rejection | None = None


@dataclass(frozen=True)
class RevocationList:
    """An event's revoked codes: for each pass re-issued or voided, the lowest serial still
    valid (`Pass.valid_from`); every serial below it is revoked."""

    event_id: str
    valid_from: Mapping[str, int] = field(default_factory=dict)

    def revokes(self, pass_id: str, serial: int) -> bool:
        return serial < self.valid_from.get(pass_id, 1)


def decide(
    text: str,
    *,
    event_id: str,
    keys: KeyRing,
    check: SignatureCheck,
    revocations: RevocationList,
    admitted: Mapping[str, Admission],
    scan_id: str,
    scanner_id: str,
    gate: str,
    at: datetime,
) -> Scan:
    """The answer to scanning `text` at `event_id`'s door (`gate`, by `scanner_id`) at `at`,
    given the key ring, the event's revocations and its admissions so far (by pass id)."""
    try:
        code = keys.verify(text, check, at)
    except CodeRejected as rejected:
        return Scan(ScanOutcome.INVALID_SIGNATURE, rejection=rejected.reason)
    if code.event_id != event_id:
        return Scan(ScanOutcome.WRONG_EVENT, code)
    if revocations.revokes(code.pass_id, code.serial):
        return Scan(ScanOutcome.REVOKED, code)
    earlier = admitted.get(code.pass_id)
    if earlier is not None:
        return Scan(ScanOutcome.ALREADY_SCANNED, code, earlier)
    admission = Admission(scan_id, event_id, code.pass_id, code.serial, scanner_id, gate, at)
    return Scan(ScanOutcome.VALID, code, admission)


@dataclass(frozen=True)
class DoubleAdmission:
    """One pass admitted twice (two scanners offline): `kept` is the entry (the earlier),
    `also` the admission reported."""

    pass_id: str
    kept: Admission
    also: Admission


class Recorded(StrEnum):
    # The pass's first admission: it is the entry.
    ENTRY = "ENTRY"
    # Known already (re-synced): nothing changed.
    KNOWN = "KNOWN"
    # The pass had an earlier entry: this one is reported as a double admission.
    DOUBLE = "DOUBLE"
    # The pass's entry was later than this one: this one is the entry now, the other reported.
    DOUBLE_EARLIER = "DOUBLE_EARLIER"


def _earlier(a: Admission, b: Admission) -> bool:
    # Ties (two scanners, one clock tick) fall to the admission id, so every merge agrees.
    return (a.at, a.id) < (b.at, b.id)


@dataclass
class EntryBook:
    """An event's entries: per pass, the admission that counts, and the double admissions
    reported. The service keeps it in documents (entries unique per (event, pass), doubles
    unique per admission id); a scanner keeps one in memory from its kit."""

    event_id: str
    entries: dict[str, Admission] = field(default_factory=dict)
    doubles: dict[str, DoubleAdmission] = field(default_factory=dict)  # by `also.id`

    def __post_init__(self) -> None:
        self._known = {a.id for a in self.entries.values()} | set(self.doubles)

    def record(self, admission: Admission) -> Recorded:
        """`admission` merged in: the earliest admission of a pass is its entry."""
        if admission.event_id != self.event_id:
            raise ValueError(f"admission {admission.id} is for another event")
        if admission.id in self._known:
            return Recorded.KNOWN
        self._known.add(admission.id)
        entry = self.entries.get(admission.pass_id)
        if entry is None:
            self.entries[admission.pass_id] = admission
            return Recorded.ENTRY
        if _earlier(entry, admission):
            self.doubles[admission.id] = DoubleAdmission(admission.pass_id, entry, admission)
            return Recorded.DOUBLE
        self.entries[admission.pass_id] = admission
        # The replaced entry, and any double reported against it, count against this one now.
        for key, double in list(self.doubles.items()):
            if double.kept == entry:
                self.doubles[key] = DoubleAdmission(double.pass_id, admission, double.also)
        self.doubles[entry.id] = DoubleAdmission(admission.pass_id, admission, entry)
        return Recorded.DOUBLE_EARLIER

    def sync(self, admissions: Iterable[Admission]) -> list[DoubleAdmission]:
        """A scanner's admissions merged in; the double admissions this sync found (none on a
        re-sync)."""
        before = set(self.doubles)
        for admission in admissions:
            self.record(admission)
        return [double for key, double in self.doubles.items() if key not in before]
