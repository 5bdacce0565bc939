"""Entry at an event's doors (issue 22, item 4): the scanners an admin grants per event, a scan
online, the offline kit and the sync of the admissions scanners made offline. The rules are the
domain's (`domain/entry.py` decides and merges, `domain/offline.py` is the kit); this module
checks who asks, loads what a decision needs and stores what it recorded.

What entry needs from passes and keys comes through ports (`PassLookup`, `KeyRingSource`): the
passes are another part of this service (their repository is the authority on serials and
seats), and the key ring is the deployment's key directory (TICKET_KEYS_DIR).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from common.clock import Clock
from common.errors import Forbidden, InvalidInput
from common.retries import retry_transient
from svc_delivery.domain import codes
from svc_delivery.domain.codes import CodeRejected, SignatureCheck
from svc_delivery.domain.entry import (
    Admission,
    DoubleAdmission,
    EntryBook,
    Recorded,
    RevocationList,
    Scan,
    ScanOutcome,
    decide,
)
from svc_delivery.domain.keys import KeyRing
from svc_delivery.domain.offline import OfflineKit
from svc_delivery.service_layer.commands import Caller

MAX_GATE_LENGTH = 64
MAX_SYNC_ADMISSIONS = 1000


class KeyRingSource(Protocol):
    def ring(self) -> KeyRing:
        """The deployment's published key ring; Conflict when none is configured."""
        ...


class PassLookup(Protocol):
    """What entry reads of passes (the passes' repository is their authority)."""

    async def valid_from(self, event_id: str, pass_ids: list[str] | None = None) -> dict[str, int]:
        """The event's revocations: for each pass re-issued or voided (among `pass_ids`, or
        all), the lowest serial still valid (`Pass.valid_from`)."""
        ...

    async def seat_label(self, pass_id: str) -> str:
        """The pass's seat label ("" when unknown)."""
        ...


class ScannerGrants(Protocol):
    async def grant(self, event_id: str, user_id: str, by: str, at: datetime) -> None:
        """Idempotent: granting twice leaves one grant."""
        ...

    async def revoke(self, event_id: str, user_id: str) -> None: ...

    async def is_scanner(self, event_id: str, user_id: str) -> bool: ...

    async def scanners(self, event_id: str) -> list[str]: ...

    async def events_of(self, user_id: str) -> list[str]: ...


class EntryStore(Protocol):
    """An event's entries (one admission per pass) and its double admissions."""

    async def entries(self, event_id: str, pass_ids: list[str] | None = None) -> list[Admission]:
        """The event's entries (of `pass_ids`, or all)."""
        ...

    async def add_entry(self, admission: Admission) -> None:
        """ConcurrentUpdate when the pass has an entry already (another door was first)."""
        ...

    async def replace_entry(self, old: Admission, new: Admission) -> None:
        """`new` is the pass's entry instead of `old`; ConcurrentUpdate if `old` is not it."""
        ...

    async def doubles(
        self, event_id: str, pass_ids: list[str] | None = None
    ) -> list[DoubleAdmission]: ...

    async def admitted_passes(self, admission_ids: list[str]) -> dict[str, tuple[str, str]]:
        """Of `admission_ids`, those recorded (an entry or a double admission, of any event):
        id -> (event id, pass id)."""
        ...

    async def put_double(self, event_id: str, double: DoubleAdmission) -> None:
        """Stored by its reported admission's id (`double.also.id`), replacing it."""
        ...


class EntryUnitOfWork(Protocol):
    scanners: ScannerGrants
    entries: EntryStore
    passes: PassLookup

    async def __aenter__(self) -> EntryUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...


@dataclass(frozen=True)
class ScanAnswer:
    scan: Scan
    seat_label: str = ""


@dataclass(frozen=True)
class OfflineAdmission:
    """An admission a scanner made offline, as it sends it: its own id, the code, when, where."""

    id: str
    code: str
    at: datetime
    gate: str


@dataclass(frozen=True)
class SyncResult:
    recorded: int
    doubles: list[DoubleAdmission] = field(default_factory=list)
    rejected_ids: list[str] = field(default_factory=list)


def _required(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{name} is required", field=name)
    return value


def _gate(value: str, name: str = "gate") -> str:
    gate = _required(value, name)
    if len(gate) > MAX_GATE_LENGTH:
        raise InvalidInput(f"A gate's name is at most {MAX_GATE_LENGTH} characters", field=name)
    return gate


def _unverified_pass_id(text: str) -> str | None:
    """The pass id a code claims, to load what deciding on it needs; `decide` believes nothing
    of it before the signature is checked."""
    try:
        return codes.read(text).code.pass_id
    except CodeRejected:
        return None


class EntryHandlers:
    def __init__(
        self,
        uow: Callable[[], EntryUnitOfWork],
        keys: KeyRingSource,
        check: SignatureCheck,
        clock: Clock,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.uow = uow
        self.keys = keys
        self.check = check
        self.clock = clock
        self.new_id = new_id

    # ----- scanners -----

    @staticmethod
    def _require_admin(caller: Caller) -> None:
        if not caller.is_admin:
            raise Forbidden("Only an admin (the events' operator) manages scanners")

    async def _require_scanner(self, uow: EntryUnitOfWork, caller: Caller, event_id: str) -> None:
        if not await uow.scanners.is_scanner(event_id, caller.user_id):
            raise Forbidden("You do not scan tickets at this event")

    async def grant_scanner(self, caller: Caller, event_id: str, user_id: str) -> None:
        self._require_admin(caller)
        event_id, user_id = _required(event_id, "event_id"), _required(user_id, "user_id")
        async with self.uow() as uow:
            await uow.scanners.grant(event_id, user_id, caller.user_id, self.clock.now())
            await uow.commit()

    async def revoke_scanner(self, caller: Caller, event_id: str, user_id: str) -> None:
        self._require_admin(caller)
        event_id, user_id = _required(event_id, "event_id"), _required(user_id, "user_id")
        async with self.uow() as uow:
            await uow.scanners.revoke(event_id, user_id)
            await uow.commit()

    async def list_scanners(self, caller: Caller, event_id: str) -> list[str]:
        self._require_admin(caller)
        event_id = _required(event_id, "event_id")
        async with self.uow() as uow:
            return await uow.scanners.scanners(event_id)

    async def my_scanner_events(self, caller: Caller) -> list[str]:
        async with self.uow() as uow:
            return await uow.scanners.events_of(caller.user_id)

    # ----- scans -----

    @retry_transient()
    async def scan(self, caller: Caller, event_id: str, text: str, gate: str) -> ScanAnswer:
        """The door's answer; VALID records the entry. Of two doors scanning one code at once,
        the second insert fails (one entry per pass), runs again and answers ALREADY_SCANNED."""
        event_id, gate = _required(event_id, "event_id"), _gate(gate)
        ring = self.keys.ring()
        async with self.uow() as uow:
            await self._require_scanner(uow, caller, event_id)
            pass_id = _unverified_pass_id(text)
            ids = [pass_id] if pass_id else []
            admitted = {a.pass_id: a for a in await uow.entries.entries(event_id, ids)}
            answer = decide(
                text,
                event_id=event_id,
                keys=ring,
                check=self.check,
                revocations=RevocationList(event_id, await uow.passes.valid_from(event_id, ids)),
                admitted=admitted,
                scan_id=self.new_id(),
                scanner_id=caller.user_id,
                gate=gate,
                at=self.clock.now(),
            )
            if answer.outcome is ScanOutcome.VALID and answer.admission is not None:
                await uow.entries.add_entry(answer.admission)
                await uow.commit()
            seat = ""
            if answer.code is not None and answer.outcome is not ScanOutcome.WRONG_EVENT:
                seat = await uow.passes.seat_label(answer.code.pass_id)
            return ScanAnswer(answer, seat)

    async def offline_kit(self, caller: Caller, event_id: str) -> OfflineKit:
        """What a scanner needs to decide alone, as of now."""
        event_id = _required(event_id, "event_id")
        ring = self.keys.ring()
        async with self.uow() as uow:
            await self._require_scanner(uow, caller, event_id)
            revoked = await uow.passes.valid_from(event_id)
            entries = await uow.entries.entries(event_id)
        admissions = tuple(sorted(entries, key=lambda a: (a.at, a.id)))
        return OfflineKit(
            event_id, ring, RevocationList(event_id, revoked), admissions, self.clock.now()
        )

    @retry_transient()
    async def sync(self, caller: Caller, event_id: str, sent: list[OfflineAdmission]) -> SyncResult:
        """The scanner's offline admissions merged into the event's entries (`EntryBook`): each
        recorded once by its id, the earliest of a pass its entry, every other one a double
        admission. An admission whose code does not verify (at its time) for this event is
        rejected, not recorded: nothing a forger wrote is believed."""
        event_id = _required(event_id, "event_id")
        if len(sent) > MAX_SYNC_ADMISSIONS:
            raise InvalidInput(
                f"At most {MAX_SYNC_ADMISSIONS} admissions per sync", field="admissions"
            )
        ring = self.keys.ring()
        verified, rejected = self._verified(ring, caller, event_id, sent)
        async with self.uow() as uow:
            await self._require_scanner(uow, caller, event_id)
            # An id recorded for another admission (another pass, another event) is the
            # scanner's mistake: refused, so it neither counts as known nor overwrites one.
            taken = await uow.entries.admitted_passes([a.id for a in verified])
            admissions = []
            for admission in verified:
                if taken.get(admission.id, (event_id, admission.pass_id)) != (
                    event_id,
                    admission.pass_id,
                ):
                    rejected.append(admission.id)
                else:
                    admissions.append(admission)
            pass_ids = sorted({a.pass_id for a in admissions})
            entries = {a.pass_id: a for a in await uow.entries.entries(event_id, pass_ids)}
            doubles = {d.also.id: d for d in await uow.entries.doubles(event_id, pass_ids)}
            book = EntryBook(event_id, dict(entries), dict(doubles))
            recorded = sum(book.record(a) is not Recorded.KNOWN for a in admissions)
            for pass_id, entry in book.entries.items():
                before = entries.get(pass_id)
                if before is None:
                    await uow.entries.add_entry(entry)
                elif before != entry:
                    await uow.entries.replace_entry(before, entry)
            found = [d for key, d in book.doubles.items() if doubles.get(key) != d]
            for double in found:
                await uow.entries.put_double(event_id, double)
            await uow.commit()
        new = [d for key, d in book.doubles.items() if key not in doubles]
        return SyncResult(recorded, new, rejected)

    def _verified(
        self, ring: KeyRing, caller: Caller, event_id: str, sent: list[OfflineAdmission]
    ) -> tuple[list[Admission], list[str]]:
        admissions: list[Admission] = []
        rejected: list[str] = []
        for index, made in enumerate(sent):
            admission_id = _required(made.id, f"admissions[{index}].id")
            gate = _gate(made.gate, f"admissions[{index}].gate")
            try:
                code = ring.verify(made.code, self.check, made.at)
            except CodeRejected:
                rejected.append(admission_id)
                continue
            if code.event_id != event_id:
                rejected.append(admission_id)
                continue
            admissions.append(
                Admission(
                    admission_id,
                    event_id,
                    code.pass_id,
                    code.serial,
                    caller.user_id,
                    gate,
                    made.at,
                )
            )
        return admissions, rejected

    async def double_admissions(self, caller: Caller, event_id: str) -> list[DoubleAdmission]:
        event_id = _required(event_id, "event_id")
        async with self.uow() as uow:
            if not caller.is_admin:
                await self._require_scanner(uow, caller, event_id)
            found = await uow.entries.doubles(event_id)
        return sorted(found, key=lambda d: (d.also.at, d.also.id))
