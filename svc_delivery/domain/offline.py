"""Offline entry: the kit a scanner downloads before the doors open, and the scanner that
decides alone with it and syncs its admissions later (`entry.py` decides and merges).

The kit is what `decide` needs and the network would otherwise answer: the key ring's
published document, the event's revocation list and its admissions as of `as_of`. Whatever
changes after `as_of` is unknown to the scanner until it syncs: a pass re-issued later still
opens with its old code, and a pass admitted at another door is admitted again (a double
admission, reported at sync). A scanner downloads a fresh kit as often as it can.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from svc_delivery.domain.codes import SignatureCheck
from svc_delivery.domain.entry import Admission, RevocationList, Scan, ScanOutcome, decide
from svc_delivery.domain.keys import KeyRing

KIT_FORMAT = 1


@dataclass(frozen=True)
class OfflineKit:
    event_id: str
    keys: KeyRing
    revocations: RevocationList
    admissions: tuple[Admission, ...]
    as_of: datetime

    def to_document(self) -> dict[str, Any]:
        """The kit as JSON-ready data (what the scanner downloads)."""
        return {
            "format": KIT_FORMAT,
            "event_id": self.event_id,
            "as_of": self.as_of.isoformat(),
            "keys": self.keys.published(),
            "revoked": [
                {"pass_id": pass_id, "valid_from": serial}
                for pass_id, serial in sorted(self.revocations.valid_from.items())
            ],
            "admissions": [a.to_document() for a in self.admissions],
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> OfflineKit:
        if document.get("format") != KIT_FORMAT:
            raise ValueError(f"not a format {KIT_FORMAT} kit")
        event_id = str(document["event_id"])
        revoked = {str(r["pass_id"]): int(r["valid_from"]) for r in document["revoked"]}
        return cls(
            event_id=event_id,
            keys=KeyRing.from_published(document["keys"]),
            revocations=RevocationList(event_id, revoked),
            admissions=tuple(Admission.from_document(a) for a in document["admissions"]),
            as_of=datetime.fromisoformat(document["as_of"]),
        )


@dataclass
class OfflineScanner:
    """One scanner at one gate, without the network: its kit, and the admissions it made
    since, which `pending` hands to the sync (the service's `EntryBook.sync`)."""

    scanner_id: str
    gate: str
    kit: OfflineKit
    check: SignatureCheck
    # Each admission's id: unique across scanners and restarts, so a sync never mistakes a new
    # admission for one it already has.
    new_id: Callable[[], str] = lambda: str(uuid.uuid4())
    made: list[Admission] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._admitted = {a.pass_id: a for a in (*self.kit.admissions, *self.made)}

    def scan(self, text: str, at: datetime) -> Scan:
        answer = decide(
            text,
            event_id=self.kit.event_id,
            keys=self.kit.keys,
            check=self.check,
            revocations=self.kit.revocations,
            admitted=self._admitted,
            scan_id=self.new_id(),
            scanner_id=self.scanner_id,
            gate=self.gate,
            at=at,
        )
        if answer.outcome is ScanOutcome.VALID and answer.admission is not None:
            self.made.append(answer.admission)
            self._admitted[answer.admission.pass_id] = answer.admission
        return answer

    def pending(self) -> tuple[Admission, ...]:
        """Every admission this scanner made, to sync (re-syncing all of them is harmless)."""
        return tuple(self.made)
