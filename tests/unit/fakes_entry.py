"""Entry's unit of work in memory (svc_delivery/service_layer/entry.py's ports), for its
handlers' unit tests: a transaction works on copies and only `commit` makes them the state, so
a handler that raises leaves nothing behind."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime

from common.errors import Conflict
from common.retries import ConcurrentUpdate
from svc_delivery.domain.entry import Admission, DoubleAdmission
from svc_delivery.domain.keys import KeyRing
from svc_delivery.domain.passes import Pass


@dataclass
class EntryState:
    grants: dict[tuple[str, str], str] = field(default_factory=dict)
    entries: dict[tuple[str, str], Admission] = field(default_factory=dict)
    doubles: dict[str, tuple[str, DoubleAdmission]] = field(default_factory=dict)
    passes: dict[str, Pass] = field(default_factory=dict)
    commits: int = 0


class _Scanners:
    def __init__(self, state: EntryState) -> None:
        self.state = state

    async def grant(self, event_id: str, user_id: str, by: str, at: datetime) -> None:
        self.state.grants.setdefault((event_id, user_id), by)

    async def revoke(self, event_id: str, user_id: str) -> None:
        self.state.grants.pop((event_id, user_id), None)

    async def is_scanner(self, event_id: str, user_id: str) -> bool:
        return (event_id, user_id) in self.state.grants

    async def scanners(self, event_id: str) -> list[str]:
        return sorted(u for e, u in self.state.grants if e == event_id)

    async def events_of(self, user_id: str) -> list[str]:
        return sorted(e for e, u in self.state.grants if u == user_id)


class _Entries:
    def __init__(self, state: EntryState) -> None:
        self.state = state

    async def entries(self, event_id: str, pass_ids: list[str] | None = None) -> list[Admission]:
        return [
            a
            for (e, p), a in self.state.entries.items()
            if e == event_id and (pass_ids is None or p in pass_ids)
        ]

    async def add_entry(self, admission: Admission) -> None:
        key = (admission.event_id, admission.pass_id)
        if key in self.state.entries:
            raise ConcurrentUpdate("admitted meanwhile")
        self.state.entries[key] = admission

    async def replace_entry(self, old: Admission, new: Admission) -> None:
        key = (old.event_id, old.pass_id)
        if self.state.entries.get(key) != old:
            raise ConcurrentUpdate("changed meanwhile")
        self.state.entries[key] = new

    async def doubles(
        self, event_id: str, pass_ids: list[str] | None = None
    ) -> list[DoubleAdmission]:
        return [
            d
            for e, d in self.state.doubles.values()
            if e == event_id and (pass_ids is None or d.pass_id in pass_ids)
        ]

    async def admitted_passes(self, admission_ids: list[str]) -> dict[str, tuple[str, str]]:
        recorded = {a.id: (a.event_id, a.pass_id) for a in self.state.entries.values()}
        recorded |= {d.also.id: (e, d.pass_id) for e, d in self.state.doubles.values()}
        return {i: recorded[i] for i in admission_ids if i in recorded}

    async def put_double(self, event_id: str, double: DoubleAdmission) -> None:
        self.state.doubles[double.also.id] = (event_id, double)


class _Passes:
    def __init__(self, state: EntryState) -> None:
        self.state = state

    async def valid_from(self, event_id: str, pass_ids: list[str] | None = None) -> dict[str, int]:
        return {
            p.id: p.valid_from
            for p in self.state.passes.values()
            if p.event_id == event_id
            and p.valid_from > 1
            and (pass_ids is None or p.id in pass_ids)
        }

    async def seat_label(self, pass_id: str) -> str:
        found = self.state.passes.get(pass_id)
        return found.seat_label if found else ""


class FakeEntryUnitOfWork:
    def __init__(self, state: EntryState) -> None:
        self.committed_state = state

    async def __aenter__(self) -> FakeEntryUnitOfWork:
        self.working = copy.deepcopy(self.committed_state)
        self.scanners = _Scanners(self.working)
        self.entries = _Entries(self.working)
        self.passes = _Passes(self.working)
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def commit(self) -> None:
        state = self.committed_state
        state.grants, state.entries, state.doubles = (
            self.working.grants,
            self.working.entries,
            self.working.doubles,
        )
        state.commits += 1


class FixedRing:
    def __init__(self, ring: KeyRing | None) -> None:
        self.keys = ring

    def ring(self) -> KeyRing:
        if self.keys is None:
            raise Conflict("No ticket-code keys are configured (TICKET_KEYS_DIR)")
        return self.keys
